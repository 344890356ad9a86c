"""A token check in front of the browser app when it listens beyond this machine (issue 8, item 3).

``dipsim viz --host`` other than a loopback address serves the app behind :class:`TokenGuard`, as Jupyter
does: every HTTP request and every websocket must carry the server's token, as ``?token=...`` in the URL, as
an ``Authorization: token ...`` header, or in the cookie the guard sets on the first request that carried
it in the URL (so the page's own later requests and its websocket need nothing more). A request without it
gets 401; a websocket without it is closed before it is accepted, with 1008 (policy violation), which the
server turns into a refused handshake. Tokens are compared in constant time.

A plain ASGI class (no Starlette), so it wraps Solara's Starlette app without depending on Solara's internals.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

WS_POLICY_VIOLATION = 1008

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REFUSED = (
    b"401 Unauthorized: this server needs its token. Open the address dipsim viz printed when it started "
    b"(http://HOST:PORT/?token=...), or ask whoever started it.\n"
)


def cookie_name(scope: Scope) -> str:
    """The cookie's name, per port: browsers share cookies between the ports of one host, and two dipsim
    servers on one machine (different tokens) must not overwrite each other's."""
    server = scope.get("server") or ("", 0)
    return f"dipsim-viz-token-{server[1]}"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope: Scope, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


class TokenGuard:
    """ASGI middleware: pass a request to ``app`` only if it carries ``token`` (see the module's docstring)."""

    def __init__(self, app: ASGIApp, token: str):
        if not token:
            raise ValueError("TokenGuard needs a non-empty token")
        self.app = app
        self._token = token.encode()

    def _matches(self, candidate: str) -> bool:
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan: the app's start-up and shut-down
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        scheme, _, header = _header(scope, b"authorization").partition(" ")
        name = cookie_name(scope)
        from_query = self._matches(query)
        if not (
            from_query
            or (scheme.lower() in ("token", "bearer") and self._matches(header.strip()))
            or self._matches(_cookie(scope, name))
        ):
            await self._refuse(scope, send)
            return
        if not from_query or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                # HttpOnly: the page's scripts never see it; SameSite=Lax: another site's page cannot open
                # the websocket with it (cross-site websocket hijacking).
                cookie = f"{name}={self._token.decode()}; Path=/; HttpOnly; SameSite=Lax"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION})
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(REFUSED)).encode())]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": REFUSED})
