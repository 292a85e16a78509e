"""Replay recorded venue HTTP responses through a real ccxt exchange object.

A fixture file (tests/fixtures/ccxt/<venue>.json) lists exchanges of one venue's API:

    {"request": {"method": "POST", "path": "/info", "json": {"type": "l2Book"}},
     "response": {...}}

`json` (POST body) and `query` (GET parameters) match when they contain the given items;
the first entry that matches answers (`"times": n` limits an entry to n answers).
`"raise": "RequestTimeout"` instead of a response raises that ccxt exception. The
instance's `fetch` is replaced, so ccxt's own request building, parsing and error handling
run as they do against the venue; a request no entry matches fails the test, naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ccxt"


class UnexpectedRequest(AssertionError):
    pass


class RecordedVenue:
    def __init__(self, venue: str, overrides: list[dict[str, Any]] | None = None) -> None:
        recorded = json.loads((FIXTURES / f"{venue}.json").read_text())
        self.exchanges: list[dict[str, Any]] = (overrides or []) + recorded["exchanges"]
        self.requests: list[tuple[str, str, Any]] = []

    def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        payload = json.loads(body) if body else {}
        self.requests.append((method, parts.path, payload or query))
        for exchange in self.exchanges:
            wanted = exchange["request"]
            if wanted.get("method", "GET") != method or not parts.path.endswith(wanted["path"]):
                continue
            if not _contains(payload, wanted.get("json", {})):
                continue
            if not _contains(query, wanted.get("query", {})):
                continue
            if "times" in exchange:
                if exchange["times"] == 0:
                    continue
                exchange["times"] -= 1
            if "raise" in exchange:
                raise getattr(ccxt, exchange["raise"])(exchange.get("message", "recorded failure"))
            return json.loads(json.dumps(exchange["response"]))  # a fresh copy each time
        raise UnexpectedRequest(f"no recorded response for {method} {url} {payload or ''}")

    def attach(self, exchange: ccxt.Exchange) -> ccxt.Exchange:
        exchange.fetch = self.fetch
        exchange.enableRateLimit = False  # replaying: no venue to be polite to
        return exchange


def _contains(actual: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(str(actual.get(key)) == str(value) for key, value in wanted.items())
