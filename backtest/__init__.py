"""The backtester: the real strategies replayed through funding history on in-memory parts.

`history.py` turns validated settlements into one simulated market per venue (and says
which price proxy it used), `engine.py` runs one strategy config through it on a manual
clock, `metrics.py` measures the run, `report.py` writes the terminal table, JSON and HTML,
and `sweep.py` fans parameter combinations out (Celery when a broker answers, in-process
otherwise). See docs/backtesting.md.
"""
