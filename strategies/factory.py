"""The strategy factory: config (YAML file or dict) -> validated config -> strategy.

Configs are pydantic v2 models, frozen with unknown fields refused, discriminated by `type`:
each strategy's config narrows `type` to a `Literal` that is its key in the registry. A
bad config fails here with one line naming the source, the field path and the problem:

    configs/arb.yaml: funding_arbitrage.rebalance.min_erosion: must be between 0 and 1

Adding a strategy is one package under `strategies/implementations/` plus one line in
`BUILTIN_STRATEGIES` below (see docs/strategy-guide.md). Classes are imported only when a
config names their type, so a broken or heavy strategy never slows or breaks the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import ValidationError

from core.errors import ConfigError
from strategies.base_strategy import BaseStrategy, StrategyConfig
from strategies.components.kit import ComponentKit

# Config `type` -> "module:Class" of its strategy.
BUILTIN_STRATEGIES: Mapping[str, str] = {
    "grid": "strategies.implementations.grid.strategy:GridStrategy",
    "funding_arbitrage": (
        "strategies.implementations.funding_arbitrage.strategy:FundingArbitrageStrategy"
    ),
}

StrategyClass = type[BaseStrategy[Any]]


# ---------------------------------------------------------------- registry


def strategy_type_of(strategy_cls: StrategyClass) -> str:
    """The registry key a strategy class declares: the `Literal` of its config's `type`."""
    model = getattr(strategy_cls, "config_model", None)
    if not (isinstance(model, type) and issubclass(model, StrategyConfig)):
        raise TypeError(f"{strategy_cls.__name__}.config_model must be a StrategyConfig subclass")
    if model.model_config.get("frozen") is not True or model.model_config.get("extra") != "forbid":
        raise TypeError(f"{model.__name__} must keep frozen=True and extra='forbid'")
    annotation = model.model_fields["type"].annotation
    values = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise TypeError(
            f"{model.__name__}.type must be a Literal of one string, e.g. Literal['grid']"
        )
    return values[0]


class StrategyRegistry:
    """`type` -> strategy class. Entries are classes or lazy "module:Class" references."""

    def __init__(self, entries: Mapping[str, str | StrategyClass] | None = None) -> None:
        self._entries: dict[str, str | StrategyClass] = dict(entries or {})

    def register(self, strategy_cls: StrategyClass) -> StrategyClass:
        """Register a class under its config's `type` (usable as a class decorator)."""
        type_name = strategy_type_of(strategy_cls)
        existing = self._entries.get(type_name)
        if existing is not None and existing is not strategy_cls:
            raise ValueError(f"strategy type {type_name!r} is already registered ({existing!r})")
        self._entries[type_name] = strategy_cls
        return strategy_cls

    def known_types(self) -> list[str]:
        return sorted(self._entries)

    def resolve(self, type_name: str) -> StrategyClass:
        """The class for `type_name`; `ConfigError` listing the known types if there is none."""
        entry = self._entries.get(type_name)
        if entry is None:
            known = ", ".join(self.known_types()) or "none registered"
            raise ConfigError(f"unknown strategy type {type_name!r}; known types: {known}")
        if isinstance(entry, str):
            entry = self._import(type_name, entry)
            self._entries[type_name] = entry
        return entry

    @staticmethod
    def _import(type_name: str, reference: str) -> StrategyClass:
        module_name, _, class_name = reference.partition(":")
        strategy_cls = getattr(importlib.import_module(module_name), class_name, None)
        if not (isinstance(strategy_cls, type) and issubclass(strategy_cls, BaseStrategy)):
            raise TypeError(
                f"registry entry {type_name!r} -> {reference!r} is not a strategy class"
            )
        declared = strategy_type_of(strategy_cls)
        if declared != type_name:
            raise TypeError(
                f"registry entry {type_name!r} -> {reference!r} declares type {declared!r}"
            )
        return strategy_cls


default_registry = StrategyRegistry(BUILTIN_STRATEGIES)


def register_strategy(strategy_cls: StrategyClass) -> StrategyClass:
    """Class decorator: register in the default registry (plugins; built-ins use the dict)."""
    return default_registry.register(strategy_cls)


# ---------------------------------------------------------------- loading configs


class _ConfigLoader(yaml.SafeLoader):
    """Safe YAML with exact decimals (0.1 stays 0.1, never a float) and no duplicate keys."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | float:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:  # .inf / .nan: left to the field's validation to refuse
        return loader.construct_yaml_float(node)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            mark = key_node.start_mark
            raise ConfigError(f"line {mark.line + 1}: duplicate key {key!r}")
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


_ConfigLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_ConfigLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_strategy_config(
    source: str | Path | Mapping[str, Any],
    registry: StrategyRegistry | None = None,
    source_name: str | None = None,
) -> StrategyConfig:
    """Validate a strategy config from a YAML file path or a mapping.

    Raises `ConfigError` whose message starts with the source (the file, or `source_name`
    for a mapping) and names the field path of every problem.
    """
    registry = registry or default_registry
    if isinstance(source, Mapping):
        label = source_name or "<config>"
        data: object = dict(source)
    else:
        label = source_name or str(source)
        data = _read_yaml(Path(source), label)
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping of fields, got {type(data).__name__}")
    type_name = data.get("type")
    if type_name is None:
        known = ", ".join(registry.known_types()) or "none registered"
        raise ConfigError(f"{label}: type: required field is missing; known types: {known}")
    if not isinstance(type_name, str):
        raise ConfigError(f"{label}: type: must be a string, got {type(type_name).__name__}")
    try:
        strategy_cls = registry.resolve(type_name)
    except ConfigError as exc:
        raise ConfigError(f"{label}: type: {exc}") from None
    try:
        return strategy_cls.config_model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(label, type_name, exc)) from None


def _read_yaml(path: Path, label: str) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read the file: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{label}: {where}invalid YAML: {problem}") from None


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (not allowed here)",
    "literal_error": "must be {expected}",
}


def _describe(label: str, type_name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        path = type_name
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        template = _MESSAGES.get(error["type"])
        if template is not None:
            message = template.format(**(error.get("ctx") or {}))
        else:
            message = error["msg"]
            for prefix, replacement in (("Input should be", "must be"), ("Value error, ", "")):
                if message.startswith(prefix):
                    message = replacement + message[len(prefix) :]
        problems.append(f"{label}: {path}: {message.strip()}")
    return "; ".join(problems)


# ---------------------------------------------------------------- building


def build_strategy(
    config: StrategyConfig,
    kit: ComponentKit,
    registry: StrategyRegistry | None = None,
) -> BaseStrategy[Any]:
    """The strategy for a validated config, with the components it declares taken from
    `kit` (`kits.PostgresKit` in production, `kits.InMemoryKit` in tests and backtests)."""
    strategy_cls = (registry or default_registry).resolve(config.type)
    if not isinstance(config, strategy_cls.config_model):
        raise ConfigError(
            f"{config.name}: {strategy_cls.__name__} needs a "
            f"{strategy_cls.config_model.__name__}, got {type(config).__name__}"
        )
    return strategy_cls.create(config, kit)


def build_strategy_from(
    source: str | Path | Mapping[str, Any],
    kit: ComponentKit,
    registry: StrategyRegistry | None = None,
) -> BaseStrategy[Any]:
    """`load_strategy_config` then `build_strategy`."""
    return build_strategy(load_strategy_config(source, registry), kit, registry)
