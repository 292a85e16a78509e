"""The paper venues' terms and injected faults for every process of a deployment.

`configs/venues.yaml` (or `PERPBOT_VENUES_CONFIG`) holds one `PaperVenueConfig` per venue
under `paper:`; the runtime builds every paper (and dry-run) trading client with it, and
the transfer manager uses it for withdrawals, so worker and beat rehearse the same faults:

    paper:
      lighter:
        faults: {seed: 7, reject_rate: 0.05, timeout_after_fill_rate: 0.02}
      hyperliquid:
        faults:
          outages: [{start: 2026-01-01T10:00:00Z, end: 2026-01-01T10:20:00Z}]

A missing file means every venue on its defaults (no faults). An unknown venue or field is
an error naming the file and the field path.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigError
from exchanges.simulation.config import PaperVenueConfig
from exchanges.venues import VENUES


class VenuesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    paper: dict[str, PaperVenueConfig] = Field(default_factory=dict)

    @field_validator("paper")
    @classmethod
    def _known_venues(cls, value: dict[str, PaperVenueConfig]) -> dict[str, PaperVenueConfig]:
        unknown = sorted(set(value) - set(VENUES))
        if unknown:
            raise ValueError(
                f"unknown venue {', '.join(unknown)} (known: {', '.join(sorted(VENUES))})"
            )
        return value

    def for_venue(self, venue: str) -> PaperVenueConfig:
        return self.paper.get(venue, PaperVenueConfig())


def load_venues_config(path: Path) -> VenuesConfig:
    if not path.exists():
        return VenuesConfig()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the venues config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    try:
        return VenuesConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '(top level)'}: {item['msg']}"
            for item in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
