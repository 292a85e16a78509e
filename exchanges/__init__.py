"""Exchange port (`base.py`) and its adapters: ccxt for real venues, `paper/` for simulated ones."""
