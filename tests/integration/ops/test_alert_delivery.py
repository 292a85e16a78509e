"""Alerts delivered through Apprise to a real local webhook: once per dedupe key across
workers, at most `max_per_hour`, a failed delivery recorded and retried."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alerts import Alert, AlertKind, AlertSeverity
from core.clock import ManualClock
from core.ops_config import AlertPolicy
from db.models import AlertDelivery
from strategies.components.alert_sink import DeliveringAlertSink, parse_alert_urls
from tests.support.alert_receiver import alert_receiver

START = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def alert(key: str, subject: str = "lighter down") -> Alert:
    return Alert(AlertKind.VENUE_DOWN, key, subject, "no answer for 300 s", AlertSeverity.CRITICAL)


def rows(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [
            (r.dedupe_key, r.status)
            for r in session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))
        ]


def test_an_alert_reaches_the_webhook_once_per_key_within_the_window(engine, clean_db):
    clock = ManualClock(START)
    with alert_receiver() as receiver:
        sink = DeliveringAlertSink(engine, clock, [receiver.url], AlertPolicy(dedupe_seconds=600))
        assert sink.send(alert("venue:lighter")) is True
        assert sink.send(alert("venue:lighter")) is False
        clock.advance(timedelta(seconds=601))
        assert sink.send(alert("venue:lighter", "lighter still down")) is True
    assert receiver.titles() == ["lighter down", "lighter still down"]
    [first] = receiver.received[:1]
    assert "no answer for 300 s" in first["message"] and first["type"] == "failure"
    assert rows(engine) == [("venue:lighter", "sent"), ("venue:lighter", "sent")]


def test_past_the_hourly_limit_alerts_are_recorded_not_sent(engine, clean_db):
    clock = ManualClock(START)
    with alert_receiver() as receiver:
        sink = DeliveringAlertSink(engine, clock, [receiver.url], AlertPolicy(max_per_hour=2))
        sent = [sink.send(alert(f"k{i}", f"alert {i}")) for i in range(3)]
        clock.advance(timedelta(minutes=61))
        sent.append(sink.send(alert("k3", "alert 3")))
    assert sent == [True, True, False, True]
    assert receiver.titles() == ["alert 0", "alert 1", "alert 3"]
    assert [status for _, status in rows(engine)] == ["sent", "sent", "suppressed", "sent"]


def test_a_failed_delivery_is_recorded_and_the_key_goes_out_next_time(engine, clean_db):
    clock = ManualClock(START)
    with alert_receiver() as receiver:
        sink = DeliveringAlertSink(engine, clock, [receiver.url], AlertPolicy())
        receiver.status = 500
        assert sink.send(alert("transfer:1")) is False
        receiver.status = 200
        assert sink.send(alert("transfer:1")) is True
    assert receiver.titles() == ["lighter down"]
    assert rows(engine) == [("transfer:1", "failed"), ("transfer:1", "sent")]


def test_two_workers_sending_the_same_alert_at_once_send_it_once(engine, clean_db):
    with alert_receiver() as receiver:
        sinks = [
            DeliveringAlertSink(engine, ManualClock(START), [receiver.url], AlertPolicy())
            for _ in range(4)
        ]
        barrier = threading.Barrier(len(sinks))
        results: list[bool] = []

        def send(sink: DeliveringAlertSink) -> None:
            barrier.wait(timeout=10)
            results.append(sink.send(alert("breaker:x", "arb halted")))

        threads = [threading.Thread(target=send, args=(s,)) for s in sinks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert receiver.titles() == ["arb halted"]


def test_without_urls_alerts_are_still_recorded_and_deduplicated(engine, clean_db):
    sink = DeliveringAlertSink(engine, ManualClock(START), [], AlertPolicy())
    assert sink.send(alert("k")) is True
    assert sink.send(alert("k")) is False
    assert rows(engine) == [("k", "sent")]


def test_a_url_apprise_does_not_know_is_refused_without_showing_it():
    with pytest.raises(ValueError, match=r"a nosuch:// URL is not one apprise accepts") as error:
        DeliveringAlertSink(None, ManualClock(START), ["nosuch://secret-token@x"], AlertPolicy())  # type: ignore[arg-type]
    assert "secret-token" not in str(error.value)
    assert parse_alert_urls(" json://a/b, tgram://t/c\nslack://x ") == [
        "json://a/b",
        "tgram://t/c",
        "slack://x",
    ]
