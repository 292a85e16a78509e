"""Funding-rate collection, the fee model and opportunity ranking."""
