"""Shared components. Implementations import only the pure interface modules
(`base_components`, `kit`, `concurrency`, `transfer_types`); the PostgreSQL and in-memory
backends in the other modules reach them through the kits (`kits.py`)."""
