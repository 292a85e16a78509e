"""Strategy framework against real PostgreSQL: component contracts, concurrency, wiring."""
