"""Cross-cutting pieces: settings, service bootstrap, clock, money helpers, errors."""
