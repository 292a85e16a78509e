"""Dependency direction: implementations use only the framework and component interfaces.

`strategies/implementations/**` never imports Celery, SQLAlchemy, ccxt, `db` or `tasks`
(nor the adapter modules that do), and one implementation never imports a sibling. Checked
on the syntax tree, so imports inside functions, relative imports and
`importlib.import_module("...")` calls are all seen. The other layers' rules are in
`tests/unit/test_layers.py`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT
from tests.support.import_graph import imports_under, matches

IMPLEMENTATIONS = PROJECT_ROOT / "strategies" / "implementations"
PACKAGE = "strategies.implementations"
FORBIDDEN = (
    "celery",
    "kombu",
    "sqlalchemy",
    "psycopg",
    "psycopg2",
    "ccxt",
    "redis",
    "db",
    "tasks",
    "strategies.factory",
    "strategies.components.position_manager",
    "strategies.components.position_rules",
    "strategies.components.state_manager",
    "strategies.components.event_sink",
    "strategies.components.sessions",
    "strategies.components.kits",
    "strategies.components.funding_rates",
)


def _forbidden(name: str, own_impl: str | None) -> str | None:
    for banned in FORBIDDEN:
        if matches(name, banned):
            return banned
    prefix = PACKAGE + "."
    if own_impl and name.startswith(prefix):
        other = name[len(prefix) :].split(".")[0]
        if other != own_impl:
            return f"sibling implementation {other}"
    return None


def import_violations(root: Path, package: str = PACKAGE) -> list[str]:
    """Every forbidden import under `root` (a copy of the implementations package)."""
    problems = []
    for relative, line, name in imports_under(root, package):
        own_impl = relative.parts[0] if len(relative.parts) > 1 else None
        banned = _forbidden(name, own_impl)
        if banned is not None:
            problems.append(f"{relative}:{line}: imports {name} ({banned})")
    return problems


def test_implementations_import_only_interfaces():
    assert IMPLEMENTATIONS.is_dir()
    assert import_violations(IMPLEMENTATIONS) == []


def test_the_checker_catches_every_form_of_forbidden_import(tmp_path):
    grid = tmp_path / "grid"
    grid.mkdir()
    (grid / "__init__.py").write_text('"""Grid."""\n')
    (grid / "strategy.py").write_text(
        "import celery\n"
        "from sqlalchemy.orm import Session\n"
        "from db.repositories import StateRepository\n"
        "from strategies.components import position_manager\n"
        "from strategies.components.base_components import PositionManager\n"
        "from ..funding_arbitrage.models import Leg\n"
        "from .config import GridConfig\n"
        "def later():\n"
        "    import tasks.strategy\n"
        "    import importlib\n"
        "    return importlib.import_module('ccxt')\n"
    )
    found = import_violations(tmp_path)
    assert found == [
        "grid/strategy.py:1: imports celery (celery)",
        "grid/strategy.py:2: imports sqlalchemy.orm (sqlalchemy)",
        "grid/strategy.py:2: imports sqlalchemy.orm.Session (sqlalchemy)",
        "grid/strategy.py:3: imports db.repositories (db)",
        "grid/strategy.py:3: imports db.repositories.StateRepository (db)",
        "grid/strategy.py:4: imports strategies.components.position_manager "
        "(strategies.components.position_manager)",
        "grid/strategy.py:6: imports strategies.implementations.funding_arbitrage.models "
        "(sibling implementation funding_arbitrage)",
        "grid/strategy.py:6: imports strategies.implementations.funding_arbitrage.models.Leg "
        "(sibling implementation funding_arbitrage)",
        "grid/strategy.py:9: imports tasks.strategy (tasks)",
        "grid/strategy.py:11: imports ccxt (ccxt)",
    ]


def test_what_implementations_may_import_pulls_in_no_infrastructure():
    # The interfaces themselves must not drag SQLAlchemy & co. in behind an import.
    code = (
        "import sys, pkgutil, importlib\n"
        "import strategies.base_strategy, strategies.categories.stateless_strategy\n"
        "import strategies.categories.stateful_strategy, strategies.components.base_components\n"
        "import strategies.implementations as impl\n"
        "for info in pkgutil.walk_packages(impl.__path__, impl.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "roots = {'celery', 'kombu', 'sqlalchemy', 'psycopg', 'psycopg2', 'ccxt', 'redis', 'db',\n"
        "         'tasks'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in roots))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
