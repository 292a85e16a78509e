"""What one backtest run varies: the rebalance policy (by name) and config overrides.

`--policy NAME` replaces the config's `rebalance` section by a named policy (`POLICIES`;
`config` keeps the config's own). `--sweep path=v1,v2` sets a dotted config path (list
items by index: `rebalance.policies.0.min_erosion`) to each value in turn; several sweeps
combine as a cartesian product. Every variant is validated as a whole strategy config, so
a bad path or value fails before anything runs, naming the field.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

CONFIG_POLICY = "config"
POLICIES: Mapping[str, Mapping[str, Any]] = {
    "profit_erosion": {"type": "profit_erosion", "min_erosion": "0.5"},
    "divergence_flip": {"type": "divergence_flip", "flip_margin_apr": "0.02"},
    "time_based": {"type": "time_based", "max_hold_hours": "168"},
    "better_opportunity": {"type": "better_opportunity", "min_gain_usd": "2"},
    "flip_or_switch": {
        "type": "combined",
        "policies": [
            {"type": "divergence_flip", "flip_margin_apr": "0.02"},
            {"type": "better_opportunity", "min_gain_usd": "2"},
        ],
    },
}


@dataclass(frozen=True)
class Sweep:
    path: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Sweep:
        path, sep, values = text.partition("=")
        items = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not path.strip() or not items:
            raise ConfigError(f"--sweep {text!r}: expected path=value1,value2,...")
        return cls(path.strip(), items)


@dataclass(frozen=True)
class Variant:
    """One run: a policy name and the overrides (path -> value) applied on top of it."""

    policy: str
    overrides: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """Names the run in tables and in the sweep's stored results (stable, unique)."""
        extra = ",".join(f"{path}={value}" for path, value in self.overrides)
        return f"{self.policy}[{extra}]" if extra else self.policy

    def apply(self, config: Mapping[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(dict(config))
        if self.policy != CONFIG_POLICY:
            if data.get("type") != "funding_arbitrage":
                raise ConfigError(f"--policy {self.policy}: only funding_arbitrage has policies")
            data["rebalance"] = copy.deepcopy(dict(policy_config(self.policy)))
        for path, value in self.overrides:
            _set(data, path, value)
        return data


def policy_config(name: str) -> Mapping[str, Any]:
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join([CONFIG_POLICY, *POLICIES])
        raise ConfigError(f"--policy {name!r}: unknown policy; known: {known}") from None


def variants(policies: Sequence[str], sweeps: Sequence[Sweep]) -> list[Variant]:
    """Every policy crossed with every combination of the sweeps' values."""
    names = list(dict.fromkeys(policies)) or [CONFIG_POLICY]
    for name in names:
        if name != CONFIG_POLICY:
            policy_config(name)
    paths = [s.path for s in sweeps]
    if len(set(paths)) != len(paths):
        raise ConfigError("--sweep: a path is swept more than once")
    combos = list(itertools.product(*(s.values for s in sweeps)))
    return [
        Variant(name, tuple(zip(paths, combo, strict=True))) for name in names for combo in combos
    ]


def _set(data: dict[str, Any], path: str, value: str) -> None:
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"--sweep {path}: {where} is not an item of a {len(node)}-list")
            key: Any = int(part)
        elif isinstance(node, dict):
            if part not in node and not last:
                raise ConfigError(f"--sweep {path}: the config has no {where}")
            key = part
        else:
            raise ConfigError(f"--sweep {path}: {'.'.join(parts[:depth])} is not a section")
        if last:
            node[key] = value
        else:
            node = node[key]
