"""Realised funding history: import (Parquet/CSV), fetch (ccxt), sample trimming, and the
vectorised spread pre-screen. See docs/funding-history.md for the traps and how each is met.
"""
