"""The operator CLI: help everywhere, one-line errors with exit code 2 for bad input."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from core.settings import PROJECT_ROOT, get_settings
from strategies.runtime import reset_runtime
from trading_bot import app

COMMANDS = [
    [],
    ["demo"],
    ["run"],
    ["status"],
    ["rebalance"],
    ["close"],
    ["pause"],
    ["resume"],
    ["migrate"],
    ["flower"],
    ["services"],
    ["services", "up"],
    ["services", "down"],
    ["funding"],
    ["funding", "top"],
    ["data"],
    ["data", "import"],
    ["data", "fetch"],
    ["data", "list"],
    ["data", "screen"],
    ["data", "trim"],
    ["transfer"],
    ["venues"],
    ["venues", "check"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top-level")
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_works_as_a_script_from_the_repository_root():
    result = subprocess.run(
        [sys.executable, "trading_bot.py", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for command in ("demo", "run", "status", "rebalance", "funding", "transfer"):
        assert command in result.stdout


@pytest.fixture
def example_configs(monkeypatch):
    monkeypatch.setenv("PERPBOT_STRATEGIES", str(PROJECT_ROOT / "configs" / "strategies"))
    get_settings.cache_clear()
    reset_runtime()
    yield
    get_settings.cache_clear()
    reset_runtime()


@pytest.mark.parametrize(
    "command",
    [
        ["rebalance", "no-such-strategy"],
        ["pause", "no-such-strategy"],
        ["close", "no-such-strategy", "--position", "00000000-0000-0000-0000-000000000001"],
    ],
)
def test_unknown_strategy_name_is_one_line_and_exit_code_2(example_configs, command):
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "unknown strategy 'no-such-strategy'" in lines[0]
    assert "Traceback" not in result.output


def test_bad_config_path_is_one_line_and_exit_code_2():
    result = CliRunner().invoke(app, ["run", "configs/nope.yaml"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: configs/nope.yaml: no such strategy config file"


def test_invalid_config_names_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("type: grid\nname: g\nvenue: hyperliquid\nsymbol: ETH\n")
    result = CliRunner().invoke(app, ["run", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.output and "grid." in result.output
    assert "Traceback" not in result.output


def test_malformed_position_id_is_refused(example_configs):
    result = CliRunner().invoke(app, ["close", "arb-main", "--position", "not-a-uuid"])
    assert result.exit_code == 2
    assert "--position: 'not-a-uuid' is not a position id" in result.output


def test_the_demo_takes_only_a_database_name_it_could_have_created():
    from cli.demo import check_demo_database_name
    from core.errors import ConfigError

    for name in ("perpbot_demo", "perpbot_demo_mine"):
        check_demo_database_name(name)
    for name in ("perpbot", "postgres", "my_perpbot_demo", "perpbot_dem"):
        expected = f"--database '{name}'.*must start with 'perpbot_demo'"
        with pytest.raises(ConfigError, match=expected):
            check_demo_database_name(name)
