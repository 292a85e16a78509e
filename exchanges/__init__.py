"""exchanges package."""
