"""The ground truth of a generated data set: what each file holds and what was planted in it.

``manifest.json`` is what tests and benchmarks assert against: per organisation, the number of
rows, the count of every planted problem kind, the keys of the records that carry them, and the
values left unmapped on purpose. Every planted problem is also listed, with its row, in
``<org>.planted.csv`` (row numbers count data rows from 1, after the header), because with
millions of rows the key lists in the manifest are cut at :data:`MAX_KEYS` per kind.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from concord.errors import MalformedFileError, UnreadableFileError

MANIFEST_NAME = "manifest.json"
GENERATOR = "concord.synth/1"
#: Keys listed per problem kind and organisation in manifest.json (all are in the planted CSV).
MAX_KEYS = 1000
#: Columns of ``<org>.planted.csv``.
PLANTED_SCHEMA = {
    "row": pl.Int64,
    "key": pl.String,
    "kind": pl.String,
    "column": pl.String,
    "value": pl.String,
}


@dataclass
class OrganisationManifest:
    """One organisation's files and their ground truth."""

    slug: str
    name: str
    kind: str
    country: str
    language: str
    format: str
    file: str
    mapping: str
    crosswalk: str
    planted_file: str
    rows: int
    requested_rows: int
    #: Every problem kind that can occur in this file → how many rows carry it.
    planted: dict[str, int]
    #: Kind → keys of the records carrying it (at most MAX_KEYS, in file order).
    planted_keys: dict[str, list[str]]
    planted_keys_truncated: bool
    #: Scheme → values the organisation left unmapped on purpose.
    unmapped: dict[str, list[str]]
    #: Rows carrying at least one value left unmapped on purpose.
    unmapped_rows: int
    identifying: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def planted_total(self) -> int:
        return sum(self.planted.values())


@dataclass
class SynthManifest:
    """What ``generate_partners`` wrote, and the truth about it."""

    seed: int
    rows_per_org: int
    period: dict[str, str]
    rates: dict[str, float]
    organisations: list[OrganisationManifest]
    generator: str = GENERATOR

    def organisation(self, slug: str) -> OrganisationManifest:
        for item in self.organisations:
            if item.slug == slug:
                return item
        raise KeyError(slug)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST_NAME
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: Path) -> SynthManifest:
        """Read ``manifest.json`` back (tests and benchmarks start from a generated folder)."""
        path = directory / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            organisations = [OrganisationManifest(**o) for o in data.pop("organisations")]
            return cls(organisations=organisations, **data)
        except FileNotFoundError as exc:
            raise UnreadableFileError(f"{path}: no such file") from exc
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise MalformedFileError(f"{path}: not a synthetic data manifest ({exc})") from exc


def read_planted(directory: Path, organisation: OrganisationManifest) -> pl.DataFrame:
    """Every planted problem of one organisation: row, key, kind, column, value."""
    return pl.read_csv(directory / organisation.planted_file, schema=PLANTED_SCHEMA)
