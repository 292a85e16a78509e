"""Tests of the strategy framework (no database)."""
