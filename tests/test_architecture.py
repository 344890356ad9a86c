"""The rooms and their arrows (issue 9; docs/architecture.md).

The contracts live in pyproject.toml ([tool.importlinter]) and are checked by import-linter here, so a wrong
import fails the test suite. Each contract is also shown to fail: a copy of the source tree is given one
deliberate wrong import and import-linter must name the broken contract. Cycles between any two modules are
listed from grimp's import graph (import-linter's own graph library) with networkx.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "agents", "experiments")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}
ROOMS_OUTSIDE_ENGINE = ("sim.cli", "sim.viz")
# The modules of experiments/ that the browser page may import: reading a sweep folder and reporting it.
READ_SIDE = {
    "experiments.figures",
    "experiments.folder",
    "experiments.report",
    "experiments.results",
    "experiments.statistics",
    "experiments.store",
    "experiments.sweep_reader",
}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the packages under ``root`` (first on the path, so a copy is analysed, not the install)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every simple cycle of direct imports between modules of the graph's packages."""
    g = nx.DiGraph()
    for module in graph.modules:
        if module.split(".")[0] in PACKAGES:
            g.add_edges_from(
                (module, imported)
                for imported in graph.find_modules_directly_imported_by(module)
                if imported.split(".")[0] in PACKAGES
            )
    return [sorted(c) for c in nx.simple_cycles(g)]


def test_every_contract_is_kept():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in proc.stdout


def test_the_engine_contract_lists_every_engine_module():
    """The engine contract names its modules one by one; a new module of sim/ outside the page and the
    command line must be added to it, or it would escape the contract."""
    graph = grimp.build_graph("sim", cache_dir=None)
    listed = set(CONTRACTS["engine"]["source_modules"])
    engine = {
        m
        for m in graph.modules
        if m != "sim" and not any(m == room or m.startswith(room + ".") for room in ROOMS_OUTSIDE_ENGINE)
    }
    uncovered = {m for m in engine if not any(m == s or m.startswith(s + ".") for s in listed)}
    assert not uncovered, f"add to the engine contract in pyproject.toml: {sorted(uncovered)}"
    assert listed <= engine, f"not engine modules: {sorted(listed - engine)}"


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert module_cycles(graph) == []


def test_a_cycle_is_found_when_one_is_added():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph.add_import(importer="sim.rules.utility", imported="sim.rules.war")  # war imports utility
    assert ["sim.rules.utility", "sim.rules.war"] in module_cycles(graph)


# One deliberate wrong import per contract: (file, the module it imports, the contract it must break). An arrow
# the wrong way often breaks others too (it closes a cycle, or lets another room reach a forbidden one through
# it); only the contract it is aimed at is asserted.
WRONG_IMPORTS = [
    ("sim/model.py", "sim.cli.main", "cli-leaf"),
    ("sim/scenario.py", "experiments.spec", "engine"),
    ("sim/size.py", "sim.viz.ui", "engine"),
    ("sim/rules/war.py", "mesa", "rules"),
    ("sim/venues.py", "mesa", "engine-libraries"),
    ("sim/scenario.py", "pandas", "engine-libraries"),
    ("sim/rules/war.py", "pydantic", "rules"),
    ("sim/rules/war.py", "sim.params", "rules"),
    ("sim/rules/utility.py", "sim.model", "rules"),
    ("agents/agents.py", "sim.model", "agents"),
    ("sim/scenario.py", "agents.agents", "agents-interface"),
    ("experiments/report.py", "sim.viz.ui", "batch"),
    ("sim/viz/app.py", "experiments.sweep", "page"),
    ("sim/viz/app.py", "experiments.interrupt", "page"),
    ("sim/messages.py", "sim.loading", "acyclic"),  # loading imports messages
]
WRONG_IMPORT_IDS = [f"{path}: {module}" for path, module, _ in WRONG_IMPORTS]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and pyproject.toml, restored by each test that edits it; as copied, it keeps
    every contract (so a broken one below is the appended line's doing)."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root)
    clean = lint_imports(root)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    return root


@pytest.mark.parametrize(("path", "imported", "contract"), WRONG_IMPORTS, ids=WRONG_IMPORT_IDS)
def test_a_wrong_import_breaks_its_contract(tree: Path, path: str, imported: str, contract: str):
    target = tree / path
    original = target.read_text()
    edited = original + f"\nimport {imported}  # deliberately wrong\n"
    target.write_text(edited)
    try:
        proc = lint_imports(tree)
    finally:
        target.write_text(original)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert f"{CONTRACTS[contract]['name']} BROKEN" in " ".join(out.split()), out  # the report wraps long names
    importer = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    if contract == "acyclic":  # named relative to the package whose modules would form the cycle
        shown = f"- .{importer.split('.', 1)[1]} -> .{imported.split('.', 1)[1]} (1 import)"
    else:
        shown = f"{importer} -> {imported} (l.{len(edited.splitlines())})"
    assert shown in out, out


def test_the_lists_in_the_rules_libraries_and_page_contracts_are_complete():
    """The rules contract forbids every other engine module, the libraries contract binds every engine module
    but the model, and the page contract forbids every module of experiments/ but the read side. A module
    added to either package must be placed on one side, or it would escape."""
    graph = grimp.build_graph("experiments", cache_dir=None)
    engine = set(CONTRACTS["engine"]["source_modules"])
    assert {m for m in CONTRACTS["rules"]["forbidden_modules"] if m.startswith("sim.")} == engine - {"sim.rules"}
    assert set(CONTRACTS["engine-libraries"]["source_modules"]) == engine - {"sim.model"}
    batch = {m for m in graph.modules if m != "experiments"}
    page_forbidden = {m for m in CONTRACTS["page"]["forbidden_modules"] if m.startswith("experiments.")}
    assert page_forbidden | READ_SIDE == batch and not page_forbidden & READ_SIDE, sorted(batch - READ_SIDE)


def _imported_after(code: str) -> list[str]:
    """The top-level packages of interest that a fresh interpreter has imported after running ``code``."""
    heavy = {"dask", "matplotlib", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "solara", "yaml"}
    loaded = "{m.split('.')[0] for m in sys.modules}"
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({loaded} & {heavy!r})))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_help_imports_only_the_standard_library():
    """`dipsim --help` builds the parser of every subcommand without importing what they need to run."""
    assert _imported_after("from sim.cli.main import build_parser\nbuild_parser().format_help()") == []


def test_validate_imports_neither_the_model_nor_the_batch_runner():
    scenario = REPO / "configs" / "european_security_2022.yaml"
    code = f"from sim.cli import main\nassert main(['validate', {str(scenario)!r}]) == 0"
    assert _imported_after(code) == ["pydantic", "yaml"]
