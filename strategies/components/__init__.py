"""Shared components. Implementations import only `base_components` (the interfaces); the
PostgreSQL and in-memory backends in the other modules are wired in by the factory."""
