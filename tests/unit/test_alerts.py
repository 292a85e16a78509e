"""The alert value refuses what a sink could not deliver or deduplicate."""

import logging

import pytest

from core.alerts import Alert, AlertKind, AlertSeverity, AlertSink, LogAlertSink


def test_an_alert_without_a_dedupe_key_or_subject_is_refused():
    with pytest.raises(ValueError, match=r"dedupe_key must be 1\.\.200 characters"):
        Alert(AlertKind.VENUE_DOWN, " ", "lighter down", "unreachable")
    with pytest.raises(ValueError, match="dedupe_key"):
        Alert(AlertKind.VENUE_DOWN, "k" * 201, "lighter down", "unreachable")
    with pytest.raises(ValueError, match="subject must not be empty"):
        Alert(AlertKind.VENUE_DOWN, "venue:lighter", "", "unreachable")
    with pytest.raises(ValueError, match="kind must be an AlertKind"):
        Alert("venue_down", "venue:lighter", "down", "x")  # type: ignore[arg-type]


def test_the_log_sink_logs_critical_alerts_as_errors(caplog):
    sink = LogAlertSink()
    assert isinstance(sink, AlertSink)
    alert = Alert(
        AlertKind.BREAKER_TRIPPED, "breaker:1", "arb halted", "drawdown", AlertSeverity.CRITICAL
    )
    with caplog.at_level(logging.INFO, logger="core.alerts"):
        assert sink.send(alert) is True
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "breaker_tripped [breaker:1] arb halted: drawdown" in record.getMessage()
