"""The report of a backtest: the side-by-side table, `report.json` and `report.html`.

Layout (the dashboard reads it): `<out>/<run_id>/report.json` and `<out>/<run_id>/report.html`.
`report.json` top level: `run_id`, `created_at` (ISO UTC), `config`, `data` (paths),
`from`, `to` (ISO dates), `price_proxy` (str or null), `policies` (one object per run, the
keys of `POLICY_KEYS`, money as Decimal strings), then `margin_assets`, `pairs` (per run,
the pairs traded) and `series` (per run, equity and cumulative funding and fees over time).
The HTML embeds plotly.js inline, so it opens offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from rich.table import Table

from backtest.engine import RunResult
from backtest.metrics import GridFigures, Metrics, PairFigures

POLICY_KEYS = (
    "policy",
    "net_pnl",
    "funding_received",
    "funding_paid",
    "fees",
    "slippage",
    "opens",
    "closes",
    "switches",
    "time_in_market_hours",
    "apr_on_capital",
    "max_drawdown",
    "worst_unhedged_usd",
)
MAX_POINTS = 1000  # per series in the report: a year hourly is thinned to about daily


@dataclass(frozen=True)
class ReportHeader:
    run_id: str
    created_at: datetime
    config: str
    data: str
    start: datetime
    end: datetime
    price_proxy: str | None
    margin_assets: dict[str, str]
    threshold_apr: str | None  # the entry threshold the persistence figures use


def _usd(value: str) -> str:
    return f"{Decimal(value):,.2f}"


def _pct(value: str) -> str:
    return f"{Decimal(value) * 100:.2f}%"


# Rows of the side-by-side table, each read from a run's `policies` entry.
ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("net PnL (USD)", lambda p: _usd(p["net_pnl"])),
    ("funding received", lambda p: _usd(p["funding_received"])),
    ("funding paid", lambda p: _usd(p["funding_paid"])),
    ("fees", lambda p: _usd(p["fees"])),
    ("slippage", lambda p: _usd(p["slippage"])),
    ("opens / closes / switches", lambda p: f"{p['opens']} / {p['closes']} / {p['switches']}"),
    ("open at end", lambda p: str(p["open_at_end"])),
    ("time in market (h)", lambda p: f"{p['time_in_market_hours']:,} of {p['hours']:,}"),
    ("peak margin used", lambda p: _usd(p["capital_used"])),
    ("APR on capital used", lambda p: _pct(p["apr_on_capital"])),
    ("max drawdown", lambda p: _usd(p["max_drawdown"])),
    ("worst unhedged (USD)", lambda p: _usd(p["worst_unhedged_usd"])),
    ("liquidations", lambda p: str(p["liquidations"])),
    ("failed cycles", lambda p: str(p["failed_cycles"])),
)


# A grid's own rows (under the common ones), read from its `grid` entry.
GRID_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("grid fills: buys / sells", lambda p: f"{p['grid']['buys']} / {p['grid']['sells']}"),
    ("grid maker fills", lambda p: str(p["grid"]["maker_fills"])),
    ("grid volume (USD)", lambda p: _usd(p["grid"]["volume_usd"])),
    ("grid realised trading PnL", lambda p: _usd(p["grid"]["realized_pnl"])),
    ("grid episodes", lambda p: str(p["grid"]["episodes"])),
)


def policy_table(document: dict[str, Any]) -> Table:
    """Every run side by side, one column each."""
    policies = document["policies"]
    table = Table(
        title=f"Backtest {document['from']} to {document['to']} ({document['run_id']})",
        title_justify="left",
    )
    table.add_column("")
    for p in policies:
        table.add_column(p["policy"], justify="right")
    for label, cell in ROWS:
        table.add_row(label, *(cell(p) for p in policies))
    if any("grid" in p for p in policies):
        for label, cell in GRID_ROWS:
            table.add_row(label, *(cell(p) if "grid" in p else "-" for p in policies))
    return table


def pairs_table(document: dict[str, Any]) -> Table | None:
    """The pairs any run traded: spread persistence (a property of the data, the same for
    every run) and what each run made on the pair."""
    runs = [p["policy"] for p in document["policies"]]
    by_key = {
        (run, r["symbol"], r["long"], r["short"]): r
        for run in runs
        for r in document["pairs"].get(run, [])
    }
    keys = sorted({key[1:] for key in by_key})
    if not keys:
        return None
    threshold = document.get("persistence_threshold_apr")
    above = f" above {_pct(threshold)} APR" if threshold is not None else ""
    table = Table(title=f"Pairs traded: spread persistence{above}", title_justify="left")
    for column in ("symbol", "long", "short", "share above", "median run h", "longest run h"):
        table.add_column(
            column, justify="left" if column in ("symbol", "long", "short") else "right"
        )
    for run in runs:
        table.add_column(f"{run} PnL", justify="right")
    for key in keys:
        rows = [by_key.get((run, *key)) for run in runs]
        screen = next((r["persistence"] for r in rows if r and r["persistence"]), None)
        cells = (
            [
                f"{screen['share_above'] * 100:.1f}%",
                f"{screen['median_run_hours']:g}",
                f"{screen['longest_run_hours']:,}",
            ]
            if screen is not None
            else ["-", "-", "-"]
        )
        pnl = [_usd(r["contribution"]) if r else "-" for r in rows]
        table.add_row(*key, *cells, *pnl)
    return table


# ---------------------------------------------------------------- JSON


def policy_json(m: Metrics) -> dict[str, Any]:
    return {
        "policy": m.key,
        "net_pnl": str(m.net_pnl),
        "funding_received": str(m.funding_received),
        "funding_paid": str(m.funding_paid),
        "fees": str(m.fees),
        "slippage": str(m.slippage),
        "opens": m.opens,
        "closes": m.closes,
        "switches": m.switches,
        "time_in_market_hours": m.time_in_market_hours,
        "apr_on_capital": str(m.apr_on_capital),
        "max_drawdown": str(m.max_drawdown),
        "worst_unhedged_usd": str(m.worst_unhedged_usd),
        "hours": m.hours,
        "capital": str(m.capital),
        "capital_used": str(m.capital_used),
        "open_at_end": m.open_at_end,
        "liquidations": m.liquidations,
        "failed_cycles": m.failed_cycles,
        "first_failure": m.first_failure,
        **({} if m.grid is None else {"grid": _grid_json(m.grid)}),
    }


def _grid_json(g: GridFigures) -> dict[str, Any]:
    return {
        "buys": g.buys,
        "sells": g.sells,
        "maker_fills": g.maker_fills,
        "volume_usd": str(g.volume_usd),
        "realized_pnl": str(g.realized_pnl),
        "episodes": g.episodes,
    }


def _pair_json(f: PairFigures) -> dict[str, Any]:
    s = f.persistence
    return {
        "symbol": f.symbol,
        "long": f.long_venue,
        "short": f.short_venue,
        "positions": f.positions,
        "hours_held": f.hours_held,
        "funding": str(f.funding),
        "fees": str(f.fees),
        "contribution": str(f.contribution),
        "persistence": None
        if s is None
        else {
            "hours": s.hours,
            "share_above": round(s.share, 4),
            "runs": s.runs,
            "median_run_hours": s.median_run_hours,
            "longest_run_hours": s.longest_run_hours,
        },
    }


def _series(result: RunResult) -> dict[str, list[Any]]:
    steps = result.steps
    stride = max(1, -(-len(steps) // MAX_POINTS))
    chosen = steps[::stride]
    if steps and chosen[-1] is not steps[-1]:
        chosen.append(steps[-1])
    return {
        "at": [s.at.isoformat() for s in chosen],
        "equity": [str(s.equity) for s in chosen],
        "funding": [str(s.funding) for s in chosen],
        "fees": [str(s.fees) for s in chosen],
    }


def run_piece(m: Metrics, result: RunResult) -> dict[str, Any]:
    """One run's part of the report (what a sweep stores per combination)."""
    return {
        "policy": policy_json(m),
        "pairs": [_pair_json(f) for f in m.pairs],
        "series": _series(result),
    }


def report_json(header: ReportHeader, pieces: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run_id": header.run_id,
        "created_at": header.created_at.isoformat(),
        "config": header.config,
        "data": header.data,
        "from": header.start.date().isoformat(),
        "to": header.end.date().isoformat(),
        "price_proxy": header.price_proxy,
        "policies": [piece["policy"] for piece in pieces],
        "margin_assets": header.margin_assets,
        "persistence_threshold_apr": header.threshold_apr,
        "pairs": {piece["policy"]["policy"]: piece["pairs"] for piece in pieces},
        "series": {piece["policy"]["policy"]: piece["series"] for piece in pieces},
    }


# ---------------------------------------------------------------- HTML


def _figures(document: dict[str, Any]) -> list[go.Figure]:
    equity = go.Figure()
    flows = go.Figure()
    for key, series in document["series"].items():
        at = series["at"]
        equity.add_trace(go.Scatter(x=at, y=[float(v) for v in series["equity"]], name=key))
        flows.add_trace(
            go.Scatter(x=at, y=[float(v) for v in series["funding"]], name=f"{key} funding")
        )
        flows.add_trace(
            go.Scatter(
                x=at, y=[float(v) for v in series["fees"]], name=f"{key} fees", line={"dash": "dot"}
            )
        )
    equity.update_layout(title="Equity per policy (USD, all venues)", height=420)
    flows.update_layout(title="Funding (net) vs fees over time, cumulative (USD)", height=420)
    pairs = go.Figure()
    for key, rows in document["pairs"].items():
        pairs.add_trace(
            go.Bar(
                x=[f"{r['symbol']} {r['long']}/{r['short']}" for r in rows],
                y=[float(r["contribution"]) for r in rows],
                name=key,
            )
        )
    pairs.update_layout(title="Contribution per pair (USD)", barmode="group", height=420)
    return [equity, flows, pairs]


def _html_table(document: dict[str, Any]) -> str:
    policies = document["policies"]
    head = "".join(f"<th>{p['policy']}</th>" for p in policies)
    rows = "".join(
        f"<tr><th>{key}</th>{''.join(f'<td>{p[key]}</td>' for p in policies)}</tr>"
        for key in POLICY_KEYS[1:]
    )
    return f"<table><tr><th></th>{head}</tr>{rows}</table>"


def report_html(document: dict[str, Any]) -> str:
    plots = []
    for index, figure in enumerate(_figures(document)):
        plots.append(
            pio.to_html(figure, full_html=False, include_plotlyjs=index == 0, auto_play=False)
        )
    proxy = document["price_proxy"] or "none: every venue's own mark prices"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>perpbot backtest {escape(document['run_id'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>"
        f"<h1>Backtest {escape(document['run_id'])}</h1>"
        f"<p>{escape(document['config'])} on {escape(document['data'])}, "
        f"{document['from']} to {document['to']} (created {document['created_at']})</p>"
        f"<p><b>Prices:</b> {escape(proxy)}</p>"
        f"<p><b>Margin assets:</b> {escape(json.dumps(document['margin_assets']))}</p>"
        f"{_html_table(document)}{''.join(plots)}</body></html>"
    )


def write_report(out: Path, document: dict[str, Any]) -> Path:
    """Write `<out>/<run_id>/report.json` and `report.html`; returns the run's directory.
    Each file is written whole to a temporary name, then renamed (a reader never sees half)."""
    folder: Path = out / str(document["run_id"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("report.json", json.dumps(document, indent=2) + "\n"),
        ("report.html", report_html(document)),
    ):
        partial = folder / f".{name}.partial"
        partial.write_text(text, encoding="utf-8")
        partial.replace(folder / name)
    return folder
