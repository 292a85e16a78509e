"""The simulated perp venue's model as pure code: plain Python over plain values.

No SQLAlchemy and no I/O here: the core decides, a store persists. Two stores use it, the
PostgreSQL paper venue (`exchanges.paper`, shared by every process) and the in-memory venue
(`exchanges.memory`, for backtests); a parity test holds them equal.

- `margin.py`: perp arithmetic (fills on a net position, isolated margin, liquidation
  price, slippage, fees, rounding to the stored 18 places);
- `market.py`: ticks, funding events, the `MarketSource` interface, the funding calendar;
- `series.py`: an in-memory `MarketSource` (marks per time, funding settlements);
- `state.py`: accounts, holdings, orders, the journal of new facts, `VenueBook`;
- `orders.py`: validating and accepting an order (fill now or rest), cancelling, fills;
- `replay.py`: advancing a venue through a market window (funding, limit fills,
  liquidations);
- `views.py`: state as the port's types;
- `config.py`: a venue account's terms and injected faults (`PaperVenueConfig`).
"""
