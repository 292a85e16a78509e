"""funding_service package."""
