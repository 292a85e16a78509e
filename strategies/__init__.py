"""Strategies in three levels (see docs/architecture.md).

- `base_strategy`: Level 1, the minimal interface (`BaseStrategy`, `StrategyConfig`,
  `CycleResult`).
- `categories/`: Level 2 archetypes, `StatelessStrategy` (template method) and
  `StatefulStrategy` (composes injected components).
- `components/`: the interfaces strategies depend on and their PostgreSQL / in-memory
  backends.
- `implementations/`: Level 3, one self-contained package per strategy.
- `factory`: the registry and config loading; with `components/kits.py` and `runtime` the
  composition root (config -> kit -> the strategy's typed components -> strategy).
"""
