"""Fixtures the chaos runs share with the orchestration tests."""

from tests.integration.orchestration.conftest import probe_configs

__all__ = ["probe_configs"]
