"""Bridges between chains and the wallets on them.

- `base.py`: the ports (`BridgeProtocol`, `WalletNetwork`) and their types; no database code,
  so the fund-transfer logic in `strategies/implementations` can depend on it.
- `paper_network.py`, `paper_bridges.py`: simulated wallets, chain transfers and bridge
  protocols whose state is PostgreSQL rows (any worker can check a transfer's status), and
  which complete on the clock.
- `accounting.py`: where every unit of money is (venues, in flight, wallets, fees).
"""
