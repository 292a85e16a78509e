"""Operator CLI command groups; `trading_bot.py` assembles them into one typer app."""
