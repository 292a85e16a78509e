"""Pluggable rebalance sub-strategies for funding arbitrage, chosen by `type`."""
