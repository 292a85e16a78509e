"""Dependency direction between the project's layers (DESIGN.md section 2).

Each rule names a package and what it never imports, checked on the syntax tree (imports
inside functions, relative imports and `importlib.import_module("...")` are seen). The rules
for `strategies/implementations/` (no infrastructure, no backends, no siblings) are in
`tests/unit/strategies/test_import_rules.py`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from tests.support.import_graph import imported_names, imports_under, matches


def _project_roots() -> list[str]:
    """Every top-level package and module of the repository (what "the project" is)."""
    packages = [p.name for p in PROJECT_ROOT.iterdir() if (p / "__init__.py").is_file()]
    modules = [p.stem for p in PROJECT_ROOT.glob("*.py")]
    return sorted(packages + modules)


# The top of the stack: nothing below may reach up into it.
ENTRY_POINTS = ("cli", "dashboard", "tasks", "trading_bot", "celeryconfig", "beat_schedule")
NOT_PRODUCTION = ("tests", "bench")


@dataclass(frozen=True)
class Layer:
    package: str  # dotted, e.g. "strategies.components"
    never_imports: tuple[str, ...]

    @property
    def root(self) -> Path:
        return PROJECT_ROOT.joinpath(*self.package.split("."))


CORE = Layer("core", tuple(name for name in _project_roots() if name != "core"))
DB = Layer("db", ("exchanges", "funding_service", "strategies", *ENTRY_POINTS, *NOT_PRODUCTION))
EXCHANGES = Layer("exchanges", ("funding_service", "strategies", *ENTRY_POINTS, *NOT_PRODUCTION))
FUNDING_SERVICE = Layer("funding_service", ("strategies", *ENTRY_POINTS, *NOT_PRODUCTION))
COMPONENTS = Layer("strategies.components", ("strategies.implementations",))
# The backtester composes strategies, venues and history like the runtime does, below the
# entry points: the CLI and the tasks call it, it never calls them (nor Celery).
BACKTEST = Layer("backtest", ("celery", *ENTRY_POINTS, *NOT_PRODUCTION))


def layer_violations(root: Path, layer: Layer) -> list[str]:
    """Every import under `root` (the layer's package directory) that the layer forbids."""
    problems = []
    for relative, line, name in imports_under(root, layer.package):
        for banned in layer.never_imports:
            if matches(name, banned):
                problems.append(f"{relative}:{line}: imports {name} ({banned})")
    return problems


@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(CORE, id="core-imports-nothing-of-the-project"),
        pytest.param(DB, id="db-never-imports-exchanges-strategies-tasks-cli"),
        pytest.param(EXCHANGES, id="exchanges-never-import-strategies-tasks-cli"),
        pytest.param(FUNDING_SERVICE, id="funding-service-never-imports-strategies-tasks-cli"),
        pytest.param(COMPONENTS, id="components-never-import-implementations"),
        pytest.param(BACKTEST, id="backtest-never-imports-tasks-cli-celery"),
    ],
)
def test_layer_keeps_its_dependency_direction(layer: Layer):
    assert layer.root.is_dir(), layer.root
    assert layer_violations(layer.root, layer) == []


def test_core_rule_covers_every_part_of_the_project():
    for name in (
        "db",
        "exchanges",
        "funding_service",
        "strategies",
        "backtest",
        "tasks",
        "cli",
        "tests",
    ):
        assert name in CORE.never_imports
    assert {"trading_bot", "celeryconfig", "beat_schedule"} <= set(CORE.never_imports)


def test_the_layer_checker_catches_every_form_of_import(tmp_path):
    db = tmp_path / "db"
    (db / "repositories").mkdir(parents=True)
    (db / "__init__.py").write_text('"""Db."""\n')
    (db / "repositories" / "__init__.py").write_text("")
    (db / "repositories" / "rates.py").write_text(
        "from exchanges.base import ExchangeClient\n"
        "import exchanges_extra\n"
        "from db.models import FundingRate\n"
        "from .. import engine\n"
        "def later():\n"
        "    import importlib\n"
        "    return importlib.import_module('tasks.strategy_tasks')\n"
    )
    found = layer_violations(db, DB)
    assert found == [
        "repositories/rates.py:1: imports exchanges.base (exchanges)",
        "repositories/rates.py:1: imports exchanges.base.ExchangeClient (exchanges)",
        "repositories/rates.py:7: imports tasks.strategy_tasks (tasks)",
    ]


def _market_names() -> set[str]:
    tree = ast.parse((PROJECT_ROOT / "core" / "market.py").read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def _every_import_in_the_repository() -> list[tuple[str, int, str]]:
    found = []
    for root in _project_roots():
        path = PROJECT_ROOT / root
        if path.is_dir():
            found += [
                (f"{root}/{rel}", line, name) for rel, line, name in imports_under(path, root)
            ]
        else:
            source = path.with_suffix(".py")
            tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
            found += [(source.name, line, name) for line, name in imported_names(tree, root, False)]
    return found


def test_market_types_are_imported_from_core_not_from_the_venue_port():
    # exchanges.base uses these types in its signatures, so importing them from there would
    # still work: this keeps one home for them.
    moved = _market_names()
    assert {"FundingRate", "Instrument", "TopOfBook", "HOURS_PER_YEAR"} <= moved
    wrong = [
        f"{path}:{line}: {name}"
        for path, line, name in _every_import_in_the_repository()
        if name.startswith("exchanges.base.") and name.removeprefix("exchanges.base.") in moved
    ]
    assert wrong == []
