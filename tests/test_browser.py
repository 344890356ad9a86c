"""Browser tests of the simulation page: the real ``dipsim viz`` server in a subprocess, Debian's Chromium
driven by Playwright (never ``playwright install``: it downloads a browser, which these machines cannot).

Skipped when ``/usr/bin/chromium`` or the ``playwright`` package is missing, unless ``DIPSIM_REQUIRE_BROWSER=1``
(set by CI), which turns the skip into a failure. The pieces shared with other browser tests are in
``tests/browser_helpers.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_helpers import (
    PLAY_TIMEOUT_MS,
    STEP_TIMEOUT_MS,
    app_page,
    banner,
    chromium,
    day,
    expect,
    free_port,
    load_sync_api,
    play_intervals,
    quiet_day,
    reset,
    step,
    step_until,
    viz_server,
    wait_day,
)
from tests.synthetic_sweeps import grid_experiment

# The export view's command line. solara.Preformatted hands its keywords to ipyvue's Html widget, whose trait is
# ``class_``: a ``classes=`` keyword would be dropped silently, so the views pass ``class_`` and this finds it.
PRE_COMMAND = "pre.dipsim-command"


@pytest.fixture(scope="module")
def sync_api() -> Any:
    return load_sync_api()


@pytest.fixture(scope="module")
def workdir(sync_api: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's working directory, holding one real sweep folder: results/grid (3 x 3 points, 36 runs)."""
    root = tmp_path_factory.mktemp("viz")
    exp = grid_experiment(root / "browser_grid.yaml", [0.3, 0.65, 1.0], seed=11)
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "sweep", str(exp), "--out", "results/grid", "--workers", "1"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[str]:
    """The URL of a ``dipsim viz`` server on the bundled scenario, run in ``workdir`` (a fresh port, stopped at
    the end)."""
    with viz_server([], workdir, free_port()) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser(sync_api: Any) -> Iterator[Any]:
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    with app_page(browser, server) as pg:
        yield pg


# --------------------------------------------------------------------------- tests

VIEWS = [
    ".dipsim-outcome",
    ".dipsim-calendar",
    ".dipsim-network",
    ".dipsim-proposals",
    ".dipsim-positions",
    ".dipsim-escalation",
    ".dipsim-explain",
    ".dipsim-beliefs",
    ".dipsim-export",
]
ACTORS = ["RUS", "USA", "NATO", "EU", "UKR", "GEO", "FRA", "OSCE"]


def test_page_loads_with_every_view_and_the_actors(page: Any) -> None:
    # The page's widgets reach the browser one by one: each check waits for what it checks.
    for sel in VIEWS:
        expect(page.locator(sel)).to_have_count(1)
        page.locator(sel).wait_for(state="visible")
    expect(page.locator(".dipsim-outcome")).to_contain_text("day 0 of 57")
    network = page.locator(".dipsim-network")
    for actor in ACTORS:
        expect(network).to_contain_text(f"{actor} (")  # each actor named in the trust network view
    for sel in (".dipsim-network", ".dipsim-positions", ".dipsim-escalation"):
        expect(page.locator(f"{sel} img").first).to_be_visible()
    expect(page.locator(".dipsim-calendar")).to_contain_text("Monday 03 January 2022")
    expect(page.locator(PRE_COMMAND)).to_have_count(1)  # if not, see PRE_COMMAND
    expect(page.locator(PRE_COMMAND)).to_have_text(re.compile(r"^dipsim run"))
    assert page.locator(".dipsim-error").count() == 0


def test_step_to_geneva_shows_its_proposals_and_moves_the_calendar(page: Any) -> None:
    calendar = page.locator(".dipsim-calendar")
    assert "Today: Monday 03 January 2022" in calendar.inner_text()
    assert "10 Jan · US-Russia talks in Geneva" in calendar.inner_text()
    times = step_until(page, "(10 January 2022)")
    assert re.search(r"day 8 of 57 \(10 January 2022\)", banner(page)), banner(page)
    print(
        f"\nStep -> banner update, {len(times)} steps: "
        + ", ".join(f"{t:.3f}" for t in times)
        + f" s; median {sorted(times)[len(times) // 2]:.3f} s, max {max(times):.3f} s"
    )
    # The views redraw after the banner, each widget on its own: wait for each piece checked.
    expect(calendar).to_contain_text("Today: Monday 10 January 2022")
    expect(calendar).to_contain_text("Today's venue: 10 Jan · US-Russia talks in Geneva")
    expect(calendar.locator("ul")).not_to_contain_text("10 Jan · US-Russia talks in Geneva")  # venues to come
    geneva = page.locator(".dipsim-proposal", has_text="geneva_ssd")
    expect(geneva.first).to_be_visible()
    first = geneva.first
    assert "2022-01-10" in first.inner_text()
    first.click()
    why = page.locator(".dipsim-why")
    expect(why).to_contain_text("reservation")
    # The "why?" view beside the escalation view: the newest decisive moment (a refusal at Geneva), its terms
    # summing to the margin, and the change that would flip it.
    explain = page.locator(".dipsim-explain")
    expect(explain).to_contain_text("2022-01-10")
    expect(explain).to_contain_text("REJECTION")
    expect(explain.locator("td", has_text="margin")).to_have_count(1)
    expect(explain.locator(".dipsim-flip")).to_contain_text("flip: ")


def test_play_runs_and_a_second_click_stops_it(page: Any) -> None:
    page.locator(".v-btn", has_text="▶").click()
    intervals = play_intervals(page, 3)  # seconds between the banner's day changes while Play runs
    pause = page.locator(".v-btn", has_text="❚❚")
    expect(pause).to_have_count(1)  # Play turned into a pause button
    pause.click()
    # The server has taken the click: the button is ▶ again and Step (disabled while playing) is enabled.
    expect(page.locator(".v-btn", has_text="▶")).to_have_count(1, timeout=PLAY_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=PLAY_TIMEOUT_MS)
    paused_at = day(page)
    # Mesa's play loop may still finish the step under way (at most that one). Stopped means the day then stays:
    # a window of three times the slowest step seen while playing, so a slow machine gets a longer window.
    window = max(3.0, 3 * max(intervals))
    first = quiet_day(page, window)
    second = quiet_day(page, window)
    assert first == second, f"the day went on from {first} to {second} after Pause (steps {intervals} s)"
    assert first <= paused_at + 1, f"{first - paused_at} steps landed after Pause (day {paused_at} at the click)"
    assert first < 57
    step(page)  # the page still works after stopping


def test_slider_then_reset_makes_a_model_with_that_value(page: Any) -> None:
    slider = page.get_by_role("slider", name="noise", exact=True)
    before = float(slider.get_attribute("aria-valuenow"))
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    page.wait_for_function(
        "([el, v]) => parseFloat(el.getAttribute('aria-valuenow')) !== v", arg=[slider.element_handle(), before]
    )
    value = float(slider.get_attribute("aria-valuenow"))
    assert value > before
    command = page.locator(PRE_COMMAND)
    assert command.count() == 1, f"no {PRE_COMMAND} in the export view (see PRE_COMMAND)"
    assert "parameters.noise" not in command.inner_text()  # takes effect on Reset only
    step(page)
    reset(page)
    wait_day(page, "d === 0")
    page.wait_for_function(
        "([sel, v]) => (document.querySelector(sel)?.innerText ?? '').includes('--set parameters.noise=' + v)",
        arg=[PRE_COMMAND, repr(round(value, 9))],
    )
    assert f"--set parameters.noise={round(value, 9)!r}" in command.inner_text()
    step(page)


def test_bad_path_shows_a_readable_error_and_the_app_keeps_working(page: Any) -> None:
    bad = "/nonexistent/dipsim/no_such_scenario.yaml"
    box = page.get_by_label(re.compile(r"^Scenario file path"))
    box.fill(bad)
    box.press("Enter")
    step(page)
    reset(page)
    error = page.locator(".dipsim-error")
    expect(error).to_contain_text("Could not make the model")
    expect(error).to_contain_text("no_such_scenario.yaml")
    assert "Traceback" not in error.inner_text()
    # the model shown is kept, and still steps
    n = day(page)
    step(page)
    assert day(page) == n + 1
    for sel in VIEWS:
        assert page.locator(sel).count() == 1, f"view {sel} missing after the error"


def screenshot(pg: Any, out: Path) -> None:
    """A full-page screenshot once the window has its size and every image on the page has loaded."""
    pg.wait_for_function(
        "(h) => window.innerHeight === h && [...document.images].every((i) => i.complete && i.naturalWidth > 0)",
        arg=pg.viewport_size["height"],
    )
    pg.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 10_000
    print(f"\nscreenshot: {out}")


def test_screenshot_after_vienna(page: Any, tmp_path: Path) -> None:
    step_until(page, "(13 January 2022)")
    expect(page.locator(".dipsim-outcome")).to_contain_text("day 11 of 57 (13 January 2022)")
    # The log redraws after the banner may have: wait for the Vienna entry itself (issue 8, a flaky test).
    expect(page.locator(".dipsim-proposal", has_text="osce_permanent_council").first).to_be_visible()
    page.set_viewport_size({"width": 1600, "height": 2000})  # every view in one picture (the page scrolls inside)
    screenshot(page, tmp_path / "after_vienna.png")


# --------------------------------------------------------------------------- the sweep-results page

SWEEP_VIEWS = [".dipsim-sweep-summary", ".dipsim-sweep-probability", ".dipsim-sweep-survival"]
SWEEP_VIEWS += [".dipsim-sweep-heatmap", ".dipsim-sweep-runs"]


def choose(pg: Any, select: Any, option: str) -> None:
    """Open a Vuetify select and click one of its options."""
    select.locator(".v-select__slot").click()
    pg.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def open_sweep_tab(pg: Any) -> None:
    pg.locator(".dipsim-tab", has_text="Sweep results").click()
    pg.locator(".dipsim-sweep-chooser").wait_for(state="visible")


def test_sweep_page_shows_the_report_of_a_chosen_folder(page: Any, tmp_path: Path) -> None:
    open_sweep_tab(page)
    assert page.url.endswith("/sweep")
    page.locator(".dipsim-sweep-empty").wait_for(state="visible")
    chooser = page.locator(".dipsim-sweep-chooser .v-select").first
    choose(page, chooser, "results/grid")
    expect(page.locator(".dipsim-sweep-summary")).to_contain_text("9 point(s), 36 run(s), 0 error(s)")
    for sel in SWEEP_VIEWS:
        expect(page.locator(sel)).to_have_count(1)
    for sel in SWEEP_VIEWS[1:4]:
        expect(page.locator(f"{sel} img")).to_have_count(1)  # one figure in each
    # the x axis: another parameter, another figure
    figure = page.locator(".dipsim-sweep-probability img")
    before = figure.get_attribute("src")
    choose(page, page.locator(".dipsim-sweep-probability .v-select"), "actors.USA.traits.resolve")
    page.wait_for_function(
        "([el, src]) => el.getAttribute('src') !== src", arg=[figure.element_handle(), before], timeout=STEP_TIMEOUT_MS
    )
    # censoring: the survival figure is redrawn
    survival = page.locator(".dipsim-sweep-survival img")
    before = survival.get_attribute("src")
    page.locator(".dipsim-sweep-survival .v-btn", has_text="steps_run").click()
    page.wait_for_function(
        "([el, src]) => el.getAttribute('src') !== src",
        arg=[survival.element_handle(), before],
        timeout=STEP_TIMEOUT_MS,
    )
    # a run of a point, with the command that repeats it
    expect(page.locator("pre.dipsim-rerun")).to_have_text(re.compile(r"^dipsim run .*--seed .*--set "))
    screenshot(page, tmp_path / "sweep_page.png")
    # and back to the simulation page, which still works
    page.locator(".dipsim-tab", has_text="Simulation").click()
    page.locator(".dipsim-outcome").wait_for(state="visible")
    step(page)


def test_sweep_page_bad_folder_shows_a_readable_error_and_recovers(page: Any, workdir: Path) -> None:
    open_sweep_tab(page)
    box = page.get_by_label(re.compile(r"^Results folder"))
    box.fill(str(workdir))  # a folder, but not a sweep's
    box.press("Enter")
    error = page.locator(".dipsim-error")
    expect(error).to_contain_text("Could not read the results")
    expect(error).to_contain_text("manifest.json")
    assert "Traceback" not in error.inner_text()
    box.fill(str(workdir / "results" / "grid"))
    box.press("Enter")
    expect(page.locator(".dipsim-sweep-summary")).to_contain_text("36 run(s)")
    expect(page.locator(".dipsim-error")).to_have_count(0)
