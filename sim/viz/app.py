"""dipsim's browser app: the simulation page (Mesa's SolaraViz: Step, Play, Reset, with dipsim's views) at
``/``, and the sweep-results page (``sim.viz.sweep_page``) at ``/sweep``; tabs in the app bar switch between them.

Run it with ``dipsim viz [CONFIG] [--results DIR]`` (or ``python -m solara run sim.viz.app``). The default scenario
is ``$DIPSIM_VIZ_CONFIG`` (set by ``dipsim viz CONFIG``), else the bundled 2022 scenario.

Controls (Mesa's model parameters; they take effect on Reset): a bundled scenario or a path to a scenario
file (a path wins), the seed, and one slider per model parameter; or an uploaded scenario file (``sim.viz.upload``),
which wins over both while it is used. A path that cannot be loaded shows the loader's error on the page, without
any value from the file, and keeps the model that was shown. The page opens only files under its roots
(``sim.viz.roots``: ``configs/``, the working directory, ``dipsim viz --root DIR``, and the ``CONFIG`` named on the
``dipsim viz`` command line); any other path is refused without being read. A scenario above ``sim.size``'s
limits is refused with its estimate before its model is made (``sim.viz.page_size``).

``SimulationPage`` is a component, not a ``SolaraViz(...)`` element built at import: each browser session (and each
reload) gets its own fresh model instead of sharing, and stepping, one module-level instance.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import solara
from mesa.visualization import Slider, SolaraViz

from sim.loading import BUNDLED_CONFIGS, DEFAULT_SCENARIO, load_scenario
from sim.messages import ScenarioError
from sim.model import DiplomacyModel
from sim.options import VIZ_CONFIG_ENV
from sim.params import Parameters
from sim.viz.components import (
    BeliefsView,
    CalendarView,
    EscalationView,
    ExportView,
    OutcomeBanner,
    PositionsView,
    ProposalLogView,
    TrustNetworkView,
    WhyView,
)
from sim.viz.data import bundled_scenarios, parse_seed, resolve_config, slider_spec
from sim.viz.page_size import check_size
from sim.viz.roots import Roots, server_roots
from sim.viz.upload import UploadPanel, discard, upload_dir

DEFAULT_CHOICE = DEFAULT_SCENARIO.relative_to(BUNDLED_CONFIGS).as_posix()


class _Session:
    """One browser session's page state: the model shown, the error of the last model that could not be made,
    and the uploaded scenario file in use (if any)."""

    def __init__(self) -> None:
        self.error: solara.Reactive[str | None] | None = None
        self.shown: VizModel | None = None
        self.upload: solara.Reactive[Path | None] | None = None

    def report(self, message: str | None) -> None:
        if self.error is not None:
            self.error.set(message)

    def in_use(self) -> set[Path]:
        """The files this session needs: the upload chosen and the file of the model shown (its YAML download)."""
        chosen = self.upload.value if self.upload is not None else None
        return {p for p in (chosen, getattr(self.shown, "config_path", None)) if p is not None}

    def release(self, path: Path | None) -> None:
        """Delete ``path`` if it is an upload this session no longer needs (other files are never touched)."""
        if path is not None and path not in self.in_use():
            discard(path)

    def close(self) -> None:
        """The browser session ended: its uploads go."""
        for path in self.in_use():
            discard(path)


class _KeepShownOnError(type):
    """Metaclass of the page's model classes. SolaraViz's Reset makes the next model as
    ``type(model)(**controls)`` and would let a bad path or seed raise out of the click handler (which breaks
    the page). For a per-session class (one with a ``session``), a model that cannot be made is reported to
    the session instead, and the model shown is returned: it stays, steps and all. While the session uses an
    uploaded file, it is the scenario (Reset passes only Mesa's controls, which know nothing of it)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        session: _Session | None = cls.__dict__.get("session")
        if session is None:
            return super().__call__(*args, **kwargs)
        if session.upload is not None and session.upload.value is not None:
            kwargs = {**kwargs, "scenario_path": str(session.upload.value)}
        try:
            model = super().__call__(*args, **kwargs)
        except (ScenarioError, ValueError) as exc:
            if session.shown is None:
                raise
            session.report(str(exc))
            return session.shown
        session.report(None)
        before, session.shown = session.shown, model
        session.release(getattr(before, "config_path", None))
        return model


class VizModel(DiplomacyModel, metaclass=_KeepShownOnError):
    """The page's model: a :class:`DiplomacyModel` built from the page's controls.

    ``scenario_file`` (a bundled file, relative to ``configs/``) or ``scenario_path`` (any path; wins when
    not empty), ``seed`` (text, as typed) and the model's parameters. The parameters that differ from the
    scenario file's own are applied as ``parameters.NAME`` overrides of the file, exactly as
    ``dipsim run --set`` does, so the run (and its config hash) is the one ``dipsim run`` reproduces.
    ``scenario`` is Mesa's own keyword (SolaraViz's Reset passes an empty Mesa Scenario): ignored.

    The file is opened only under ``roots`` when set (the page's classes set it; Python callers choose their own
    files). Errors never show a value read from the file: the page may be shown to others than its starter.
    """

    roots: ClassVar[Roots | None] = None
    refuse_too_big: ClassVar[bool] = False  # the page's classes refuse a scenario above sim.size's limits

    def __init__(
        self,
        scenario_file: str = DEFAULT_CHOICE,
        scenario_path: str = "",
        seed: str | int = "0",
        scenario: Any = None,
        **params: Any,
    ):
        path = resolve_config(scenario_file, scenario_path)
        if self.roots is not None:
            path = self.roots.check(path, hint=", or upload the file")
        rng = parse_seed(seed)
        base = load_scenario(path, show_values=False)
        if self.refuse_too_big:  # before the model's n x n arrays are made
            check_size(base, path.name)
        unknown = sorted(set(params) - set(Parameters.model_fields))
        if unknown:
            raise ScenarioError("parameters", [(name, "unknown model parameter") for name in unknown])
        # Sliders give floats with binary noise (0.30000000000000004): keep what the slider shows.
        values = {k: round(float(v), 9) for k, v in params.items()}
        overrides = {k: v for k, v in values.items() if v != getattr(base.parameters, k)}
        params_set = {f"parameters.{k}": v for k, v in overrides.items()}
        sc = load_scenario(path, params_set, show_values=False) if overrides else base
        super().__init__(config=sc, rng=rng, explain=True)  # the "why?" view takes decisions apart
        self.config_path = path
        self.overrides = overrides
        self.initial_rung = self.rung.copy()
        self.initial_beliefs = np.stack([self.belief_lo, self.belief_hi])


def session_model_class(session: _Session, roots: Roots) -> type[VizModel]:
    """A subclass of :class:`VizModel` bound to one session (see :class:`_KeepShownOnError`), opening files
    only under ``roots``."""
    attrs = {"session": session, "roots": roots, "refuse_too_big": True, "__module__": __name__}
    return _KeepShownOnError("SessionVizModel", (VizModel,), attrs)


def page_roots() -> Roots:
    """What the simulation page may open: the server's roots, the folder of uploads, and the scenario named by
    ``$DIPSIM_VIZ_CONFIG`` (``dipsim viz CONFIG``: its starter chose that one file, wherever it is)."""
    roots = server_roots().with_private([upload_dir()])
    named = os.environ.get(VIZ_CONFIG_ENV, "").strip()
    return roots.with_files([named]) if named else roots


def default_controls() -> dict[str, Any]:
    """The controls' initial values: ``$DIPSIM_VIZ_CONFIG`` as the bundled choice if it is one, else as a path."""
    env = os.environ.get(VIZ_CONFIG_ENV, "").strip()
    choice, path = DEFAULT_CHOICE, ""
    if env:
        p = Path(env).expanduser().resolve()
        try:
            rel = p.relative_to(BUNDLED_CONFIGS).as_posix()
        except ValueError:
            rel = None
        if rel in bundled_scenarios():
            choice = rel
        else:
            path = env
    return {"scenario_file": choice, "scenario_path": path, "seed": "0"}


def model_params(controls: dict[str, Any], defaults: Parameters) -> dict[str, Any]:
    """SolaraViz's ``model_params``: scenario choice, path, seed, and a slider per :class:`Parameters` field
    (range from the field's bounds, initial value from ``defaults``)."""
    out: dict[str, Any] = {
        "scenario_file": {
            "type": "Select",
            "value": controls["scenario_file"],
            "values": bundled_scenarios(),
            "label": "Scenario (bundled)",
        },
        "scenario_path": {
            "type": "InputText",
            "value": controls["scenario_path"],
            "label": "Scenario file path (wins over the bundled choice; Enter, then Reset)",
        },
        "seed": {"type": "InputText", "value": str(controls["seed"]), "label": "Seed"},
    }
    # Labelled by name alone: a long label leaves the slider no width in the sidebar. The export view lists
    # each parameter's meaning.
    for name in Parameters.model_fields:
        spec = slider_spec(name, getattr(defaults, name))
        out[name] = Slider(name, spec["value"], spec["min"], spec["max"], spec["step"], dtype=float)
    return out


# SolaraViz's grid (two columns); the outcome banner sits above it, on every page.
COMPONENTS = [
    CalendarView,
    TrustNetworkView,
    ProposalLogView,
    PositionsView,
    EscalationView,
    WhyView,  # beside the escalation view
    BeliefsView,
    ExportView,
]


def initial_model(cls: type[VizModel], controls: dict[str, Any]) -> tuple[VizModel, str | None]:
    """The first model of a session; if the default scenario cannot be loaded, the bundled one and the error."""
    try:
        return cls(**controls), None
    except (ScenarioError, ValueError) as exc:
        return cls(), f"{exc}\n(showing the bundled scenario instead)"


@solara.component
def SimulationPage() -> None:
    session = solara.use_memo(_Session, [])
    cls = solara.use_memo(lambda: session_model_class(session, page_roots()), [])
    session.upload = solara.use_reactive(None)
    controls = solara.use_memo(default_controls, [])
    first = solara.use_memo(lambda: initial_model(cls, controls), [])
    error = solara.use_reactive(first[1])
    session.error = error
    model = solara.use_reactive(first[0])
    params = solara.use_memo(lambda: model_params(controls, first[0].config.parameters), [])
    if error.value:
        solara.Error(
            f"Could not make the model: {error.value}",
            classes=["dipsim-error"],
            style={"white-space": "pre-wrap"},
        )
    OutcomeBanner(model.value)
    SolaraViz(model, components=list(COMPONENTS), model_params=params, name="dipsim: crisis diplomacy")
    solara.use_effect(lambda: session.close, [])  # the cleanup runs when the session's page goes
    with solara.Sidebar():
        UploadPanel(session.upload, session.release)


@solara.component
def SweepResultsPage() -> None:
    # Imported when the page is first shown: the simulation page does not need pandas' Parquet readers.
    from sim.viz.sweep_page import SweepPage

    SweepPage()


@solara.component
def Layout(children: list[Any]) -> solara.Element:
    """Solara's AppLayout with one tab per route, named by the route's label (AppLayout's own tabs show paths)."""
    _, siblings = solara.use_route()
    tabs = solara.lab.Tabs(
        align="center",
        children=[solara.lab.Tab(r.label or r.path, path_or_route=r, classes=["dipsim-tab"]) for r in siblings],
    )
    return solara.AppLayout(children=[solara.AppBar(children=[tabs]), *children])


# Solara's routing: ``solara run sim.viz.app`` serves these (the module has no ``Page``); ``Layout`` wraps both.
routes = [
    solara.Route(path="/", component=SimulationPage, label="Simulation", layout=Layout),
    solara.Route(path="sweep", component=SweepResultsPage, label="Sweep results"),
]
