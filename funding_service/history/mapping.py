"""Which column of a history file holds which field, and fields a file leaves to the user.

The fields are those of the public funding-history dataset the sample in the repo comes from
(`data/sample/funding-history/README.md`):

| field | required | meaning |
|---|---|---|
| `venue` | yes, or `venue:` / a `venue=<name>` folder | lower-case venue name, e.g. `binance` |
| `canonical_symbol` | yes, or `symbol:` | `BASE-MARGIN-PERP`, e.g. `BTC-USDT-PERP` |
| `settlement_ts` | yes | when the settlement was paid (end of its accrual window), with a zone |
| `rate_raw` | yes | the rate for that one interval, a fraction (0.0001 = 0.01 %) |
| `interval_hours` | yes | the interval that rate is for |
| `mark_price` | no | the mark at settlement |
| `is_predicted` | no | must be false: only realised settlements are history |

A mapping names, per field, the file's column (`--map settlement_ts=time,rate_raw=rate`, or
`columns:` in a YAML file); an unmapped field is read from the column of its own name.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigError

FIELDS = (
    "venue",
    "canonical_symbol",
    "settlement_ts",
    "rate_raw",
    "interval_hours",
    "mark_price",
    "is_predicted",
)
REQUIRED = ("venue", "canonical_symbol", "settlement_ts", "rate_raw", "interval_hours")
OPTIONAL = ("mark_price", "is_predicted")


class ColumnMapping(BaseModel):
    """Field -> the file's column name; `venue`/`symbol` for files of one venue/series."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: dict[str, str] = Field(default_factory=dict)
    venue: str | None = None  # every row is of this venue (the file has no venue column)
    symbol: str | None = None  # every row is of this canonical symbol, e.g. BTC-USDT-PERP

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(FIELDS)}")
        empty = sorted(field for field, column in columns.items() if not column.strip())
        if empty:
            raise ValueError(f"no column named for {', '.join(empty)}")
        return columns

    def column(self, field: str) -> str:
        """The file's column holding `field`."""
        return self.columns.get(field, field)

    def constant(self, field: str) -> str | None:
        """The value every row has for `field` when given instead of a column."""
        if field == "venue":
            return self.venue
        if field == "canonical_symbol":
            return self.symbol
        return None

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with `other`'s entries on top (the command line wins over a file)."""
        return ColumnMapping(
            columns={**self.columns, **other.columns},
            venue=other.venue or self.venue,
            symbol=other.symbol or self.symbol,
        )


def parse_map_option(text: str) -> ColumnMapping:
    """`field=column,field=column` (the `--map` option)."""
    columns: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        field, sep, column = item.partition("=")
        if not sep:
            raise ConfigError(f"--map: {item!r} is not field=column")
        columns[field.strip()] = column.strip()
    return _build({"columns": columns}, "--map")


def load_mapping_file(path: Path) -> ColumnMapping:
    """A YAML file: `columns: {field: column}`, optionally `venue:` and `symbol:`."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"--mapping {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--mapping {path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--mapping {path}: expected a mapping with `columns:`")
    return _build(data, f"--mapping {path}")


def _build(data: dict[str, object], where: str) -> ColumnMapping:
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"{where}: {path}: {error['msg']}") from None
