"""The token check in front of a server listening beyond loopback (``sim.viz.token_guard``), as a plain ASGI app:
driven with hand-made scopes and messages, no server and no network."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sim.options import is_loopback
from sim.viz.token_guard import WS_POLICY_VIOLATION, TokenGuard, cookie_name

TOKEN = "s3cr3t-token-for-tests-0123456789"
PORT = 8799
COOKIE = f"dipsim-viz-token-{PORT}"


class App:
    """The app behind the guard: answers 200 to HTTP, accepts websockets, records what reached it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls.append(scope["type"])
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<html>page</html>"})
        elif scope["type"] == "websocket":
            await send({"type": "websocket.accept"})


def call(kind: str, query: str = "", headers: list[tuple[bytes, bytes]] | None = None) -> tuple[App, list[Any]]:
    """Send one request of ``kind`` ("http" or "websocket") through a guard; the app and the messages sent."""
    app, sent = App(), []
    scope = {
        "type": kind,
        "path": "/",
        "query_string": query.encode(),
        "headers": headers or [],
        "server": ("127.0.0.1", PORT),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(TokenGuard(app, TOKEN)(scope, receive, send))
    return app, sent


def status(sent: list[Any]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def set_cookie(sent: list[Any]) -> str | None:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return next((v.decode() for k, v in start["headers"] if k == b"set-cookie"), None)


@pytest.mark.parametrize(
    "query, headers",
    [
        ("", []),
        ("token=wrong", []),
        (f"token={TOKEN[:-1]}", []),  # a prefix is not the token
        ("token=", []),
        ("", [(b"authorization", b"token wrong")]),
        ("", [(b"cookie", f"{COOKIE}=wrong".encode())]),
        ("", [(b"cookie", f"dipsim-viz-token-1234={TOKEN}".encode())]),  # another port's cookie
    ],
)
def test_http_without_the_token_is_401_and_never_reaches_the_app(query: str, headers: list[Any]) -> None:
    app, sent = call("http", query, headers)
    assert status(sent) == 401 and app.calls == []
    body = b"".join(m.get("body", b"") for m in sent)
    assert b"token" in body and TOKEN.encode() not in body


def test_the_token_in_the_url_passes_and_sets_the_cookie() -> None:
    app, sent = call("http", f"x=1&token={TOKEN}")
    assert status(sent) == 200 and app.calls == ["http"]
    cookie = set_cookie(sent)
    assert cookie is not None and cookie.startswith(f"{COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert b"".join(m.get("body", b"") for m in sent) == b"<html>page</html>"


@pytest.mark.parametrize(
    "headers",
    [
        [(b"cookie", f"other=1; {COOKIE}={TOKEN}; more=2".encode())],
        [(b"authorization", f"token {TOKEN}".encode())],
        [(b"Authorization", f"Bearer {TOKEN}".encode())],
    ],
)
def test_the_cookie_or_the_header_passes_without_setting_a_cookie(headers: list[Any]) -> None:
    app, sent = call("http", headers=headers)
    assert status(sent) == 200 and app.calls == ["http"]
    assert set_cookie(sent) is None


def test_a_websocket_without_the_token_is_closed_before_it_is_accepted() -> None:
    for query, headers in [("", []), ("token=wrong", []), ("", [(b"cookie", f"{COOKIE}=wrong".encode())])]:
        app, sent = call("websocket", query, headers)
        assert app.calls == []
        assert sent == [{"type": "websocket.close", "code": WS_POLICY_VIOLATION}]


def test_a_websocket_with_the_cookie_or_the_token_reaches_the_app() -> None:
    for query, headers in [("", [(b"cookie", f"{COOKIE}={TOKEN}".encode())]), (f"token={TOKEN}", [])]:
        app, sent = call("websocket", query, headers)
        assert app.calls == ["websocket"] and sent == [{"type": "websocket.accept"}]


def test_lifespan_passes_through() -> None:
    app = App()

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    asyncio.run(TokenGuard(app, TOKEN)({"type": "lifespan"}, nothing, ignore))
    assert app.calls == ["lifespan"]


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenGuard(App(), "")


def test_cookie_names_differ_per_port() -> None:
    assert cookie_name({"server": ("0.0.0.0", 1)}) != cookie_name({"server": ("0.0.0.0", 2)})


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
