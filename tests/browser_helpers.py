"""What the browser tests share: Debian's Chromium through Playwright (never ``playwright install``: it downloads a
browser, which these machines cannot), a real ``dipsim viz`` server in a subprocess, a rendered page on it, and
the simulation page's banner, Step and Reset.

A missing ``/usr/bin/chromium`` or ``playwright`` package skips the tests, unless ``DIPSIM_REQUIRE_BROWSER=1``
(set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0  # seconds until the server answers HTTP 200
RENDER_TIMEOUT_MS = 60_000  # first render of the page (~1 s here; generous for a loaded 2-core CI box)
STEP_TIMEOUT_MS = 30_000  # one Step, click to banner change
PLAY_TIMEOUT_MS = 120_000  # Play and Pause: the play loop's thread competes with the page's redraws

DAY_RE = re.compile(r"day (\d+) of (\d+)")


def missing(reason: str) -> None:
    if os.environ.get("DIPSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (DIPSIM_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop the server's process group and reap it (no zombie left)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def load_sync_api() -> Any:
    """Playwright's sync API, or a skip (a failure under ``DIPSIM_REQUIRE_BROWSER=1``) without Chromium or it."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        missing("the playwright package is not installed (pip install playwright)")
    sync_api.expect.set_options(timeout=STEP_TIMEOUT_MS)  # its default, 5 s, is short for a loaded 2-core box
    return sync_api


@contextlib.contextmanager
def chromium(sync_api: Any) -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def expect(target: Any) -> Any:
    """Playwright's ``expect``: its assertions retry until they hold or time out (imported here, not at the
    top, so that a missing playwright skips the tests instead of failing their collection)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@contextlib.contextmanager
def viz_server(
    args: list[str], cwd: Path, port: int, env: dict[str, str] | None = None, query: str | Callable[[str], str] = ""
) -> Iterator[tuple[str, Path]]:
    """``dipsim viz ARGS --port PORT`` run in ``cwd``; yields its URL on 127.0.0.1 (the only address tests ever
    contact, whatever the server listens on) once ``URL + query`` answers 200, and its log. Stopped at the end.
    ``query`` may be a callable of the log (a token the server printed)."""
    log_path = cwd / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "viz", *args, "--port", str(port)],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:  # died, or another server owns the port and would answer instead
                pytest.fail(f"dipsim viz exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                q = query(log_path.read_text(errors="replace")) if callable(query) else query
                with urllib.request.urlopen(url + q, timeout=5) as r:
                    if r.status == 200:
                        break
            except (OSError, ValueError):  # not listening yet; or the token not yet printed
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dipsim viz gave no HTTP 200 in {SERVER_START_TIMEOUT:.0f} s:\n{log_path.read_text()}")
            time.sleep(0.25)  # the interval between polls of the condition above (HTTP 200 from this server)
        yield url, log_path
    finally:
        stop(proc)


@contextlib.contextmanager
def app_page(browser: Any, url: str) -> Iterator[Any]:
    """A new page (a new Solara session, so a new model) on the app at ``url``, rendered. No ``pageerror`` event
    and no error in the browser console are allowed (warnings are: Solara logs one about its own Vue templates)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    pg.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    pg.set_default_timeout(STEP_TIMEOUT_MS)
    pg.goto(url)
    pg.wait_for_selector(".dipsim-export", timeout=RENDER_TIMEOUT_MS)
    try:
        yield pg
        assert errors == [], f"errors in the browser: {errors}"
    finally:
        context.close()


def banner(pg: Any) -> str:
    return pg.locator(".dipsim-outcome").inner_text()


def day(pg: Any) -> int:
    m = DAY_RE.search(banner(pg))
    assert m, f"no 'day N of M' in the banner: {banner(pg)!r}"
    return int(m.group(1))


def wait_day(pg: Any, predicate: str, timeout: int = STEP_TIMEOUT_MS) -> None:
    """Wait until the banner's day satisfies ``predicate`` (a JS expression in ``d``)."""
    pg.wait_for_function(
        """(pred) => {
            const el = document.querySelector('.dipsim-outcome');
            const m = el && el.innerText.match(/day (\\d+) of/);
            if (!m) return false;
            const d = parseInt(m[1]);
            return eval(pred);
        }""",
        arg=predicate,
        timeout=timeout,
        polling="raf",
    )


def step(pg: Any) -> float:
    """Click Step; wait for the banner's day to advance by one; the seconds it took."""
    before = day(pg)
    t0 = time.perf_counter()
    pg.get_by_role("button", name="Step", exact=True).click()
    wait_day(pg, f"d === {before + 1}")
    return time.perf_counter() - t0


def step_until(pg: Any, date_text: str, max_steps: int = 57) -> list[float]:
    times = []
    while date_text not in banner(pg):
        assert len(times) < max_steps, f"never reached {date_text}: {banner(pg)!r}"
        times.append(step(pg))
    return times


def reset(pg: Any) -> None:
    pg.get_by_role("button", name="Reset", exact=True).click()


def play_intervals(pg: Any, days: int) -> list[float]:
    """While Play runs: wait for each of the next ``days`` days; the seconds between successive day changes
    (the first from the call)."""
    times, start = [], day(pg)
    t0 = time.perf_counter()
    for d in range(start + 1, start + days + 1):
        wait_day(pg, f"d >= {d}", timeout=PLAY_TIMEOUT_MS)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
    return times


def quiet_day(pg: Any, seconds: float) -> int:
    """Wait until the banner has not changed for ``seconds``; then its day. Fails, saying so, when the banner
    never stays unchanged that long (the model keeps stepping)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        pg.wait_for_function(
            """(quietMs) => {
                const text = document.querySelector('.dipsim-outcome')?.innerText;
                const seen = window.__dipsimQuiet;
                if (!seen || text !== seen.text) {
                    window.__dipsimQuiet = {text, since: performance.now()};
                    return false;
                }
                return performance.now() - seen.since >= quietMs;
            }""",
            arg=seconds * 1000,
            polling=100,
            timeout=seconds * 1000 + PLAY_TIMEOUT_MS,
        )
    except PlaywrightTimeout:
        pytest.fail(f"the banner never stayed unchanged for {seconds:.1f} s: still stepping (day {day(pg)})")
    pg.evaluate("() => { delete window.__dipsimQuiet; }")
    return day(pg)
