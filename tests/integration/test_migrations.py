"""Alembic migrations on an empty database, and agreement between models and migrations."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

import db.models
from core.services import drop_database, ensure_database
from core.settings import PROJECT_ROOT
from db.migrate import downgrade, upgrade

EXPECTED_TABLES = {
    "strategy_positions",
    "fund_transfers",
    "strategy_state",
    "orders",
    "funding_rates",
    "funding_payments",
    "events",
    "task_runs",
    "strategy_controls",
    "paper_accounts",
    "paper_orders",
    "paper_market_ticks",
}


@pytest.fixture
def empty_database(server_url):
    url = make_url(server_url).set(database=f"perpbot_mig_{uuid.uuid4().hex[:8]}")
    url = url.render_as_string(hide_password=False)
    ensure_database(url)
    yield url
    drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database):
    upgrade(empty_database)
    assert _tables(empty_database) >= EXPECTED_TABLES
    downgrade(empty_database)
    assert _tables(empty_database) == set()
    upgrade(empty_database)
    assert _tables(empty_database) >= EXPECTED_TABLES


def test_models_and_migrations_agree(empty_database):
    upgrade(empty_database)
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.models.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migrate_command_takes_a_plain_postgresql_url_and_creates_the_database(
    server_url, tmp_path
):
    # The form hosted PostgreSQL and compose files give; it names no driver.
    name = f"perpbot_mig_{uuid.uuid4().hex[:8]}"
    plain = make_url(server_url).set(drivername="postgresql", database=name)
    plain = plain.render_as_string(hide_password=False)
    assert plain.startswith("postgresql://")
    env = {**os.environ, "DATABASE_URL": plain, "PERPBOT_RUN_DIR": str(tmp_path)}
    normalized = plain.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        result = subprocess.run(
            [sys.executable, "trading_bot.py", "migrate"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "database migrated to head" in result.stdout
        assert _tables(normalized) >= EXPECTED_TABLES
        assert f"DATABASE_URL={normalized}\n" in (tmp_path / "services.env").read_text()
    finally:
        drop_database(normalized)


def test_0006_labels_stored_quotes_and_its_downgrade_drops_history(empty_database):
    from sqlalchemy import text

    upgrade(empty_database, "0005_clock_times")
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO funding_rates (venue, symbol, rate, interval_hours, observed_at)"
                    " VALUES ('paradex', 'BTC', 0.0004, 8, '2026-01-01T00:00:00Z')"
                )
            )
        upgrade(empty_database, "0006_funding_history")
        with engine.begin() as connection:
            labelled = connection.execute(
                text("SELECT kind, margin_asset FROM funding_rates")
            ).all()
            assert labelled == [("predicted", "USDC")]
            # The same time and symbol, another margin and kind: separate rows now.
            connection.execute(
                text(
                    "INSERT INTO funding_rates (venue, symbol, margin_asset, kind, rate,"
                    " interval_hours, observed_at) VALUES"
                    " ('paradex', 'BTC', 'USDT', 'predicted', 0.0001, 8, '2026-01-01T00:00:00Z'),"
                    " ('paradex', 'BTC', 'USDC', 'realised', 0.0003, 8, '2026-01-01T00:00:00Z')"
                )
            )
        downgrade(empty_database, "0005_clock_times")
        with engine.begin() as connection:
            kept = connection.execute(text("SELECT rate FROM funding_rates")).scalars().all()
        assert [float(r) for r in kept] == [0.0004]  # history and the colliding quote dropped
    finally:
        engine.dispose()


def test_unfinished_positions_carry_on_after_the_upgrade_to_typed_operations(empty_database):
    # What 0004 left: the operation and its reason only existed in the audit log.
    upgrade(empty_database, "0004")
    closing, in_doubt, by_reason, opening, reconcile = (uuid.uuid4() for _ in range(5))
    rows = [(closing, "closing"), (in_doubt, "needs_reconcile"), (opening, "opening")]
    rows += [(by_reason, "needs_reconcile"), (reconcile, "needs_reconcile")]
    changes = [
        (closing, "open", "closing", "flip"),
        (in_doubt, "open", "closing", "erosion"),
        (in_doubt, "closing", "needs_reconcile", "close: venue down"),
        (by_reason, "open", "closing", "time"),
        (by_reason, "open", "needs_reconcile", "close: close incomplete"),
        (reconcile, "open", "needs_reconcile", "monitor: short leg gone"),
    ]
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            for pid, status in rows:
                connection.execute(
                    text(
                        "INSERT INTO strategy_positions (id, strategy_name, symbol, long_dex, "
                        "short_dex, size_usd, status) VALUES (:id, 'arb', :symbol, 'a', 'b', "
                        "1000, :status)"
                    ),
                    {"id": pid, "symbol": pid.hex[:8].upper(), "status": status},
                )
            for pid, before, after, reason in changes:
                connection.execute(
                    text(
                        "INSERT INTO events (entity_type, entity_id, kind, payload) VALUES "
                        "('position', :id, 'position.status_changed', CAST(:payload AS jsonb))"
                    ),
                    {
                        "id": str(pid),
                        "payload": json.dumps({"from": before, "to": after, "reason": reason}),
                    },
                )
        upgrade(empty_database)
        with engine.connect() as connection:
            found = dict(
                (row[0], (row[1], row[2]))
                for row in connection.execute(
                    text("SELECT id, operation, operation_reason FROM strategy_positions")
                )
            )
    finally:
        engine.dispose()
    assert found == {
        closing: ("close", "flip"),
        in_doubt: ("close", "erosion"),  # finished as the close it was
        by_reason: ("close", "time"),
        opening: ("open", None),
        reconcile: ("reconcile", "monitor: short leg gone"),
    }
