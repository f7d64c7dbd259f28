"""Generating partner files: the public entry points of :mod:`concord.synth`.

Rows are produced in fixed-size chunks (:data:`CHUNK_ROWS`), each from its own random streams
derived from (seed, organisation, chunk, purpose), so:

- the same seed and size give byte-identical files, on any machine;
- memory is bounded by one chunk, whatever the number of rows;
- the clean records do not depend on the messiness rates (planting draws from its own stream),
  so a clean and a messy file of the same seed describe the same cases.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from concord.errors import InputError, UnreadableFileError
from concord.synth.calendar import Calendar
from concord.synth.generate import Chunk, generate_chunk
from concord.synth.manifest import MAX_KEYS, PLANTED_SCHEMA, OrganisationManifest, SynthManifest
from concord.synth.messiness import Messiness, Plan, applicable, plant
from concord.synth.model import DATA_END, DATA_START, KeyField, Profile
from concord.synth.profiles import get_profile
from concord.synth.profiles import organisations as all_organisations
from concord.synth.render import render
from concord.synth.specs import (
    crosswalk_name,
    crosswalk_yaml,
    data_name,
    mapping_name,
    mapping_spec_yaml,
    unmapped_labels,
)
from concord.synth.tables import VARIANTS, tables_for
from concord.synth.writers import writer_for

#: Rows generated and written at a time. Part of the output's definition: changing it changes
#: the files a seed gives (each chunk has its own random streams).
CHUNK_ROWS = 100_000
#: A generous ceiling that stops a typo ("--rows 50000000000") from filling the disk.
MAX_ROWS = 50_000_000
#: Random streams per chunk; a new purpose takes a new number, never a reused one.
_CALENDAR, _RECORDS, _PLANTING, _TEXT = range(4)

#: Called with (organisation slug, rows done, rows in total) after every chunk.
Progress = Callable[[str, int, int], None]


def _rng(seed: int, profile: Profile, chunk: int, stream: int) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process, which would break determinism.
    key = (zlib.crc32(profile.slug.encode("utf-8")), chunk, stream)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True)
class ChunkTruth:
    """The ground truth of one written chunk."""

    planted: pl.DataFrame
    unmapped_rows: int


def _unmapped_rows(profile: Profile, chunk: Chunk, plan: Plan) -> int:
    """Rows (after duplication) carrying a value the organisation left unmapped."""
    mask = np.zeros(chunk.n, dtype=np.bool_)
    for column, table in tables_for(profile).items():
        values = np.array([i for i, t in enumerate(table.targets()) if t is None], np.int32)
        if not len(values):
            continue
        # a spelling variant of an unmapped value is still that value
        variants = [table.variant_index(values, np.full(len(values), j)) for j in range(VARIANTS)]
        unmapped = np.concatenate([values, *variants])
        mask |= np.isin(chunk.primary[column], unmapped)
        if column in chunk.secondary:
            mask |= np.isin(chunk.secondary[column], unmapped)
    return int(mask[plan.source].sum())


def _truth(profile: Profile, chunk: Chunk, plan: Plan, frame: pl.DataFrame) -> ChunkTruth:
    key = next(f.column for f in profile.fields if isinstance(f, KeyField))
    keys = frame.get_column(key)
    values: list[str | None] = []
    for row, column in zip(plan.rows.tolist(), plan.columns, strict=True):
        value = frame.get_column(column)[row]
        values.append(None if value is None else str(value))
    planted = pl.DataFrame(
        {
            "row": plan.rows + chunk.start + 1,
            "key": keys.gather(pl.Series(plan.rows, dtype=pl.UInt32)),
            "kind": [str(k) for k in plan.kinds],
            "column": plan.columns,
            "value": values,
        },
        schema=PLANTED_SCHEMA,
    ).sort("row")
    return ChunkTruth(planted=planted, unmapped_rows=_unmapped_rows(profile, chunk, plan))


def iter_chunks(
    profile: Profile, rows: int, seed: int, messiness: Messiness
) -> Iterator[tuple[pl.DataFrame, ChunkTruth]]:
    """The organisation's file rows, chunk by chunk, each with its ground truth."""
    calendar = Calendar.draw(profile, rows, _rng(seed, profile, 0, _CALENDAR))
    for number, start in enumerate(range(0, rows, CHUNK_ROWS)):
        stop = min(start + CHUNK_ROWS, rows)
        chunk = generate_chunk(
            profile, start, calendar.days(start, stop), _rng(seed, profile, number, _RECORDS)
        )
        plan = plant(profile, chunk, messiness, _rng(seed, profile, number, _PLANTING))
        frame = render(profile, chunk, plan, calendar, _rng(seed, profile, number, _TEXT))
        yield frame, _truth(profile, chunk, plan, frame)


def _check_rows(rows: int) -> None:
    if not 0 <= rows <= MAX_ROWS:
        raise InputError(f"rows must be between 0 and {MAX_ROWS:,}; got {rows:,}")


def generate_rows(
    organisation: str, n: int, seed: int = 7, messiness: Messiness | None = None
) -> pl.DataFrame:
    """``n`` rows of one organisation's export as a DataFrame, without writing anything.

    The frame has the file's columns and values (before encoding), planted problems included.
    """
    _check_rows(n)
    profile = get_profile(organisation)
    frames = [frame for frame, _ in iter_chunks(profile, n, seed, messiness or Messiness())]
    if not frames:
        return pl.DataFrame(
            {c: [] for c in profile.columns}, schema=dict.fromkeys(profile.columns, pl.String)
        )
    return pl.concat(frames)


def _write_organisation(
    profile: Profile,
    out_dir: Path,
    rows: int,
    requested: int,
    seed: int,
    messiness: Messiness,
    progress: Progress | None,
) -> OrganisationManifest:
    sink = writer_for(profile).open(out_dir / data_name(profile), profile)
    planted: list[pl.DataFrame] = []
    unmapped_rows = done = 0
    try:
        for frame, truth in iter_chunks(profile, rows, seed, messiness):
            sink.write(frame)
            planted.append(truth.planted)
            unmapped_rows += truth.unmapped_rows
            done += frame.height
            if progress is not None:
                progress(profile.slug, done, rows)
    finally:
        sink.close()
    if progress is not None and rows == 0:
        progress(profile.slug, 0, 0)
    truth_frame = pl.concat(planted) if planted else pl.DataFrame(schema=PLANTED_SCHEMA)
    planted_file = f"{profile.slug}.planted.csv"
    truth_frame.write_csv(out_dir / planted_file)
    (out_dir / mapping_name(profile)).write_text(mapping_spec_yaml(profile), encoding="utf-8")
    (out_dir / crosswalk_name(profile)).write_text(crosswalk_yaml(profile), encoding="utf-8")
    counts = dict(truth_frame.group_by("kind").len().iter_rows())
    kinds = [str(k) for k in applicable(profile)]
    keys = {
        kind: truth_frame.filter(pl.col("kind") == kind).get_column("key").head(MAX_KEYS).to_list()
        for kind in kinds
    }
    notes = []
    if rows < requested:
        notes.append(
            f"{requested:,} rows were asked for; a {profile.reader.format} file holds at most "
            f"{rows:,}"
        )
    return OrganisationManifest(
        slug=profile.slug,
        name=profile.name,
        kind=profile.kind,
        country=profile.country,
        language=profile.language,
        format=str(profile.reader.format),
        file=data_name(profile),
        mapping=mapping_name(profile),
        crosswalk=crosswalk_name(profile),
        planted_file=planted_file,
        rows=rows,
        requested_rows=requested,
        planted={kind: int(counts.get(kind, 0)) for kind in kinds},
        planted_keys=keys,
        planted_keys_truncated=any(counts.get(k, 0) > MAX_KEYS for k in kinds),
        unmapped=unmapped_labels(profile),
        unmapped_rows=unmapped_rows,
        identifying=profile.identifying,
        notes=notes,
    )


def generate_partners(
    out_dir: Path,
    *,
    rows_per_org: int = 2000,
    seed: int = 7,
    organisations: list[str] | None = None,
    messiness: Messiness | None = None,
    progress: Progress | None = None,
) -> SynthManifest:
    """Write every (or the named) organisation's export, mapping spec and crosswalk.

    Writes ``<org>.<ext>``, ``<org>.mapping.yaml``, ``<org>.crosswalk.yaml`` and
    ``<org>.planted.csv`` per organisation and ``manifest.json`` for the set, and returns the
    manifest. ``rows_per_org`` is exact, except where a format caps it (an Excel sheet).
    """
    _check_rows(rows_per_org)
    profiles = (
        [get_profile(slug) for slug in dict.fromkeys(organisations)]
        if organisations
        else all_organisations()
    )
    messiness = messiness or Messiness()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnreadableFileError(f"{out_dir}: cannot create the folder ({exc.strerror})") from exc
    results = []
    for profile in profiles:
        rows = min(rows_per_org, profile.max_rows) if profile.max_rows else rows_per_org
        results.append(
            _write_organisation(profile, out_dir, rows, rows_per_org, seed, messiness, progress)
        )
    manifest = SynthManifest(
        seed=seed,
        rows_per_org=rows_per_org,
        period={"start": DATA_START.isoformat(), "end": DATA_END.isoformat()},
        rates={str(k): v for k, v in messiness.rates.items()},
        organisations=results,
    )
    manifest.write(out_dir)
    return manifest
