import textwrap

import pytest

from strategies.runtime import reset_runtime


@pytest.fixture
def probe_configs(tmp_path, monkeypatch):
    """Two probe strategies in a config directory that workers and beat will read."""
    directory = tmp_path / "strategies"
    directory.mkdir()
    (directory / "alpha.yaml").write_text(
        textwrap.dedent("""
        type: probe
        name: alpha
        phase_seconds: 0.6
        intervals: {monitor_seconds: 1.0, rebalance_seconds: 2.0, open_seconds: 3.0}
    """)
    )
    (directory / "beta.yaml").write_text(
        textwrap.dedent("""
        type: probe
        name: beta
        phase_seconds: 0.3
        intervals: {monitor_seconds: 2.0, rebalance_seconds: 4.0, open_seconds: 5.0}
    """)
    )
    (directory / "idle.yaml").write_text("type: probe\nname: idle\nenabled: false\n")
    monkeypatch.setenv("PERPBOT_STRATEGIES", str(directory))
    monkeypatch.setenv("PERPBOT_FUNDING_COLLECT_SECONDS", "3600")
    monkeypatch.setenv("PERPBOT_TRANSFERS_SWEEP_SECONDS", "3600")
    from core.settings import get_settings

    get_settings.cache_clear()
    reset_runtime()
    yield directory
    get_settings.cache_clear()
    reset_runtime()
