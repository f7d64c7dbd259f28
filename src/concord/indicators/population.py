"""Child population by country and year: the denominator of "reports per 100,000 children".

Concord ships a small *illustrative* table for the countries of its synthetic partners (round,
made-up figures, labelled as such everywhere a rate computed from it is shown), so the demo can
show a rate. A node loads its own table — UN World Population Prospects or national statistics —
from a CSV with the columns ``country`` (ISO 3166-1 alpha-2 such as ``FR``, or a concept id such
as ``country.fr``), ``year`` and ``children`` (people aged 0-17); it is kept in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import PopulationFigure
from concord.errors import InputError, UnreadableFileError
from concord.indicators.definitions import SHIPPED_DIR
from concord.vocab.model import Vocabulary

SHIPPED_FILE = SHIPPED_DIR / "child_population_illustrative.csv"
ILLUSTRATIVE = "illustrative"
ILLUSTRATIVE_CAVEAT = (
    "The child population figures are illustrative (made up for Concord's synthetic demo), not "
    "official statistics: load a real table before reading this rate."
)
#: Problems listed in one error (the rest are counted): a steward fixes the file in one pass
#: without scrolling through ten thousand identical lines.
MAX_PROBLEMS = 25
SCHEMA: dict[str, pl.DataType] = {
    "country": pl.String(),
    "year": pl.Int32(),
    "children": pl.Int64(),
}


@dataclass(frozen=True)
class PopulationTable:
    """Children per (country concept id, year), with where the figures come from."""

    frame: pl.DataFrame
    source: str

    @property
    def illustrative(self) -> bool:
        """True for made-up figures: every rate computed from them must say so."""
        return ILLUSTRATIVE in self.source.lower()

    def caveats(self) -> list[str]:
        """What a rate computed with this table must say about its denominator."""
        notes = [f"Child population: {self.source}."]
        return [*notes, ILLUSTRATIVE_CAVEAT] if self.illustrative else notes


def divide_by_population(
    cells: pl.DataFrame, table: PopulationTable, *, per: int, year: pl.Expr
) -> pl.DataFrame:
    """``cells`` (with ``country``, ``numerator`` and the ``year`` expression) with
    ``denominator`` = the children of that country and year, and ``value`` = numerator × per
    / children; both null where the table has no figure (never a guessed population)."""
    figures = table.frame.select(
        pl.col("country").cast(pl.String), pl.col("year").cast(pl.Int32), "children"
    )
    joined = cells.with_columns(year.alias("_year")).join(
        figures, left_on=["country", "_year"], right_on=["country", "year"], how="left"
    )
    return joined.with_columns(
        pl.col("children").cast(pl.Int64).alias("denominator"),
        (pl.col("numerator") * per / pl.col("children")).alias("value"),
    ).drop("children", "_year")


def population_from_frame(
    raw: pl.DataFrame, vocabulary: Vocabulary, *, source: str
) -> PopulationTable:
    """Check a table of text cells (``country``, ``year``, ``children``) and make it canonical.

    Every problem is listed at once; a country may be written as its code or its concept id.
    """
    missing = [c for c in SCHEMA if c not in raw.columns]
    if missing:
        raise InputError(
            f"{source}: a population table needs the columns country, year, children",
            details=[f"column {c!r} is missing" for c in missing],
        )
    codes = _country_codes(vocabulary)
    text = raw.select(pl.col(c).cast(pl.String).str.strip_chars() for c in SCHEMA)
    frame = text.select(
        pl.col("country").str.to_lowercase().replace_strict(codes, default=None).alias("country"),
        pl.col("year").cast(pl.Int32, strict=False).alias("year"),
        pl.col("children").str.replace_all(r"[ _,]", "").cast(pl.Int64, strict=False),
    )
    problems: list[str] = []
    for row_number, (given, row) in enumerate(
        zip(text.iter_rows(named=True), frame.iter_rows(named=True), strict=True), start=1
    ):
        if row["country"] is None:
            problems.append(f"row {row_number}: {given['country']!r} is not a country code")
        if row["year"] is None or not 1950 <= row["year"] <= 2100:
            problems.append(f"row {row_number}: {given['year']!r} is not a year")
        if row["children"] is None or row["children"] <= 0:
            problems.append(f"row {row_number}: {given['children']!r} is not a number of children")
    duplicates = frame.filter(pl.struct("country", "year").is_duplicated()).unique(
        ["country", "year"], maintain_order=True
    )
    problems += [
        f"{c} {y}: given more than once" for c, y in duplicates.select("country", "year").rows()
    ]
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS} more")
        raise InputError(
            f"{source}: {len(problems)} problem(s) in the population table", details=shown
        )
    return PopulationTable(frame, source)


def _country_codes(vocabulary: Vocabulary) -> dict[str, str]:
    scheme = vocabulary.scheme("country")
    codes: dict[str, str] = {}
    for concept in scheme.concepts if scheme else []:
        codes[concept.id] = concept.id
        if concept.notation:
            codes[concept.notation.lower()] = concept.id
    return codes


def read_population_csv(
    path: Path, vocabulary: Vocabulary, *, source: str | None = None
) -> PopulationTable:
    """A user's population CSV (lines starting with ``#`` are comments), checked."""
    try:
        raw = pl.read_csv(path, infer_schema=False, comment_prefix="#")
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UnreadableFileError(f"{path}: cannot be read as CSV ({exc})") from exc
    return population_from_frame(raw, vocabulary, source=source or path.name)


@lru_cache(maxsize=1)
def shipped_population() -> PopulationTable:
    """The illustrative table shipped with Concord (never official figures)."""
    from concord.vocab.loader import shipped_vocabulary

    return read_population_csv(
        SHIPPED_FILE,
        shipped_vocabulary(),
        source="illustrative figures shipped with Concord (not official statistics)",
    )


def store_population(session: Session, table: PopulationTable) -> int:
    """Keep ``table`` in the database (a country-year given again is replaced); rows stored."""
    for country, year, children in table.frame.select("country", "year", "children").rows():
        session.merge(
            PopulationFigure(country=country, year=year, children=children, source=table.source)
        )
    session.flush()
    return table.frame.height


def population_from_database(session: Session) -> PopulationTable | None:
    """The node's loaded population table, or ``None`` when none was loaded."""
    rows = session.execute(
        select(
            PopulationFigure.country,
            PopulationFigure.year,
            PopulationFigure.children,
            PopulationFigure.source,
        ).order_by(PopulationFigure.country, PopulationFigure.year)
    ).all()
    if not rows:
        return None
    frame = pl.DataFrame([r[:3] for r in rows], schema=SCHEMA, orient="row")
    sources = sorted({r[3] for r in rows})
    return PopulationTable(frame, "; ".join(sources))
