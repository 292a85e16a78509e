"""Delta-neutral funding-rate arbitrage across venues (a `StatefulStrategy`)."""
