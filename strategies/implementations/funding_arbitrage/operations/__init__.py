"""Multi-step operations of funding arbitrage: fund transfers and cross-chain bridging."""
