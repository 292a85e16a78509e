"""Replay a venue's recorded HTTP traffic through a real ccxt exchange object.

The recordings are ccxt's own static-test fixtures (tests/fixtures/venue-recordings/ccxt,
see SOURCE.md there): per venue, `response/<venue>.json` holds the venue's raw answers
(`httpResponse`) to ccxt methods, `request/<venue>.json` the exact requests ccxt built for
them (URL, body; `skipKeys` lists what changes per call: nonces, signatures, times).

`ReplayVenue` builds the exchange with our factory (`make_ccxt_exchange`: the venue's quirk
options) and the recordings' throwaway credentials, then replaces the instance's `fetch`,
so ccxt builds and signs every request and parses every answer in its own code. A test
`serve`s the recorded answer of a ccxt method: it answers the request to that method's
recorded endpoint (URL path, plus a body key such as Hyperliquid's `type`). A request no
route answers fails the test (`UnexpectedRequest`, also listed in `unexpected`), so every
call the adapter makes is one the recordings know. `recorded_request_mismatch` is ccxt's
static request test done by us: the recorded input through ccxt, compared with the recorded
URL and body modulo `skipKeys`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

from core.clock import Clock
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import make_ccxt_exchange
from exchanges.venue_quirks import quirks_for

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "venue-recordings" / "ccxt"
# ccxt's static tests sign with these throwaway values (its tests_sync.init_offline_exchange);
# a recording file's own credentials take precedence.
OFFLINE_CREDENTIALS = {
    "apiKey": "key",
    "secret": "secretsecret",
    "password": "password",
    "walletAddress": "wallet",
    "privateKey": "0xff3bdd43534543d421f05aec535965b5050ad6ac15345435345435453495e771",
    "uid": "uid",
}
OFFLINE_OVERRIDES: dict[str, dict[str, str]] = {
    "grvt": {"apiKey": "", "secret": ""},
    "backpack": {"secret": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    # Nothing private is verified on Lighter; with a key, ccxt looks the account up first.
    "lighter": {"privateKey": "", "walletAddress": ""},
}
# ccxt's static tests also preload these options (a cached auth token that never expires).
OFFLINE_OPTIONS = {"accessToken": "token", "expires": 999999999999999, "leverageBrackets": {}}
# Endpoints of recorded answers whose request the recordings do not hold.
PATHS: dict[str, dict[str, str]] = {"lighter": {"fetchCurrencies": "/api/v1/assetDetails"}}
# Venues that answer every call on one URL and dispatch on a body field.
DISPATCH_KEYS = {"hyperliquid": ("type",)}
# Account settings ccxt would otherwise discover with calls the recordings do not hold
# (GRVT: the main account and sub-account, which the recorded requests and transfers name).
ACCOUNT_OPTIONS: dict[str, dict[str, str]] = {
    "grvt": {
        "accountId": "2147050003876484",
        "userMainAccountId": "0x42c9f56f2c9da534f64b8806d64813b29c62a01d",
    },
}


class UnexpectedRequest(AssertionError):
    pass


class _Captured(Exception):
    """Stops a ccxt call once its request is built (the request test needs no answer)."""


def load(kind: str, venue: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / kind / f"{venue}.json").read_text())


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def url_path(url: str) -> str:
    return urlsplit(url).path.rstrip("/") or "/"


@dataclass
class Sent:
    method: str
    url: str
    body: Any
    headers: dict[str, Any]

    @property
    def json(self) -> Any:
        return json.loads(self.body) if isinstance(self.body, str) and self.body else None

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))


@dataclass
class Route:
    ccxt_method: str
    path: str  # a regular expression for the URL path
    body: dict[str, Any]
    answer: Any
    error: Exception | None = None
    times: int | None = None
    http: str | None = None  # the HTTP method, where one path serves several


@dataclass
class ReplayVenue:
    venue: str
    # "snapshot": ccxt's stored markets for the venue, preloaded as ccxt's static tests do;
    # "recorded": the venue's recorded market list, fetched through ccxt; "none": no market
    # list (ApeX records none). Default: the snapshot where the list is not recorded.
    markets: str | None = None
    routes: list[Route] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.responses = load("response", self.venue)
        self.requests = load("request", self.venue)
        self.exchange = offline_exchange(self.venue, {**self.responses, **self.requests})
        self.exchange.fetch = self._fetch
        snapshot = RECORDINGS / "markets" / f"{self.venue}.json"
        if self.markets is None:
            self.markets = "snapshot" if snapshot.exists() else "recorded"
        if self.markets == "snapshot":
            self.exchange.set_markets(list(json.loads(snapshot.read_text()).values()))
        elif self.markets == "recorded":
            self.serve("fetchMarkets", times=None)
            if "fetchCurrencies" in self.responses["methods"] and self.exchange.has.get(
                "fetchCurrencies"
            ):
                self.serve("fetchCurrencies", times=None)

    # ---------------------------------------------------------------- routes

    def case(self, method: str, description: str | None = None) -> dict[str, Any]:
        cases = self.responses["methods"][method]
        return next(c for c in cases if description is None or c["description"] == description)

    def recorded_path(self, method: str) -> str | None:
        cases = self.requests["methods"].get(method) or []
        return url_path(cases[0]["url"]) if cases else None

    def serve(
        self,
        method: str,
        description: str | None = None,
        *,
        path: str | None = None,
        body: dict[str, Any] | None = None,
        patch: Callable[[Any], None] | None = None,
        times: int | None = 1,
        http: str | None = None,
    ) -> Any:
        """Answer the next request(s) to `method`'s endpoint with its recorded answer
        (`patch` edits a copy in place first); returns that answer."""
        answer = copy.deepcopy(self.case(method, description)["httpResponse"])
        if patch is not None:
            patch(answer)
        route = Route(method, self._path(method, path), self._body(method, body), answer)
        route.times, route.http = times, http
        self.routes.append(route)
        return answer

    def fail(
        self,
        method: str,
        error: Exception,
        *,
        path: str | None = None,
        body: dict[str, Any] | None = None,
        times: int | None = 1,
        http: str | None = None,
    ) -> None:
        """Make the request to `method`'s endpoint fail with a ccxt error (a lost reply)."""
        route = Route(method, self._path(method, path), self._body(method, body), None, error)
        route.times, route.http = times, http
        self.routes.append(route)

    def _path(self, method: str, path: str | None) -> str:
        if path is not None:
            return path
        recorded = PATHS.get(self.venue, {}).get(method) or self.recorded_path(method)
        if recorded is None:
            raise LookupError(f"{self.venue}: no recorded request for {method}; give its path")
        return re.escape(recorded)

    def _body(self, method: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if body is not None:
            return body
        keys = DISPATCH_KEYS.get(self.venue, ())
        cases = self.requests["methods"].get(method) or []
        recorded = json.loads(cases[0]["output"]) if cases and cases[0].get("output") else {}
        return {k: recorded[k] for k in keys if isinstance(recorded, dict) and k in recorded}

    # ---------------------------------------------------------------- transport

    def _fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        sent = Sent(method, url, body, dict(headers or {}))
        self.sent.append(sent)
        payload = sent.json if isinstance(sent.json, dict) else {}
        for route in self.routes:
            if route.times == 0 or not re.fullmatch(route.path, url_path(url)):
                continue
            if route.http is not None and route.http != method:
                continue
            if any(payload.get(k) != v for k, v in route.body.items()):
                continue
            if route.times is not None:
                route.times -= 1
            if route.error is not None:
                raise route.error
            return copy.deepcopy(route.answer)
        message = f"{self.venue}: no recorded answer for {method} {url} {body or ''}"
        self.unexpected.append(message)
        raise UnexpectedRequest(message)

    def client(self, clock: Clock, sleeps: list[float] | None = None) -> CcxtExchangeClient:
        sleep = sleeps.append if sleeps is not None else (lambda _: None)
        return CcxtExchangeClient(self.venue, self.exchange, clock=clock, sleep=sleep)

    def sent_to(self, path: str) -> list[Sent]:
        return [s for s in self.sent if re.fullmatch(path, url_path(s.url))]


def offline_exchange(venue: str, recording: dict[str, Any]) -> ccxt.Exchange:
    """Our exchange object for `venue`, signed with the recordings' throwaway credentials and
    set up with the recording's options, as ccxt's static tests set theirs up."""
    credentials = {**OFFLINE_CREDENTIALS, **OFFLINE_OVERRIDES.get(venue, {})}
    for key in ("apiKey", "secret", "privateKey", "walletAddress"):
        if recording.get(key):
            credentials[key] = recording[key]
    exchange = make_ccxt_exchange(venue, credentials)
    exchange.enableRateLimit = False  # replaying: no venue to be polite to
    exchange.extend_exchange_options(OFFLINE_OPTIONS)
    exchange.extend_exchange_options(recording.get("options") or {})
    exchange.extend_exchange_options(ACCOUNT_OPTIONS.get(venue, {}))
    return exchange


# -------------------------------------------------------------------- request replay


def recorded_request_mismatch(venue: str, method: str, description: str) -> str | None:
    """Run the recorded input of a request case through our ccxt exchange object and compare
    the request it builds with the recorded one (URL path, then body or query, modulo the
    file's `skipKeys`). None when they agree, else what differs."""
    recording = load("request", venue)
    case = next(c for c in recording["methods"][method] if c["description"] == description)
    replay = ReplayVenue(venue)
    exchange = offline_exchange(venue, recording)
    fix = quirks_for(venue).market_fix or (lambda market: market)  # as the adapter loads them
    exchange.set_markets([fix(dict(m)) for m in replay.exchange.load_markets().values()])
    captured: list[Sent] = []

    def capture(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        captured.append(Sent(method, url, body, dict(headers or {})))
        raise _Captured

    exchange.fetch = capture
    exchange.extend_exchange_options(case.get("options") or {})
    with contextlib.suppress(_Captured):  # the request is built; no answer needed
        getattr(exchange, method)(*case["input"])
    if not captured:
        return "ccxt sent no request"
    sent = captured[-1]
    if url_path(sent.url) != url_path(case["url"]):
        return f"path {url_path(sent.url)} != recorded {url_path(case['url'])}"
    skip = set(recording.get("skipKeys") or []) | set(quirks_for(venue).request_omits)
    expected, actual = case.get("output"), sent.body
    if expected is None:
        expected, actual = dict(parse_qsl(urlsplit(case["url"]).query)), sent.query
    else:
        expected, actual = _decode(expected), _decode(actual)
    return _difference(actual, expected, skip, "")


def _decode(body: Any) -> Any:
    if not isinstance(body, str):
        return body
    if body.startswith(("{", "[")):
        return json.loads(body)
    return dict(parse_qsl(body, keep_blank_values=True))


def _difference(actual: Any, expected: Any, skip: set[str], where: str) -> str | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted((set(expected) | set(actual)) - skip):
            if key not in actual or key not in expected:
                return f"{where}.{key}: sent {actual.get(key)!r}, recorded {expected.get(key)!r}"
            found = _difference(actual[key], expected[key], skip, f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{where}: {len(actual)} items sent, {len(expected)} recorded"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            found = _difference(a, e, skip, f"{where}[{i}]")
            if found:
                return found
        return None
    return (
        None if str(actual) == str(expected) else f"{where}: sent {actual!r}, recorded {expected!r}"
    )
