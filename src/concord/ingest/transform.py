"""Map and validate one batch of partner rows, column-wise, collecting every reason per row.

Why column-wise: row-by-row Python cannot ingest millions of rows in seconds (see
``shared/reference/performance.md``). Each record field becomes one polars expression for its
harmonised value and one for its reasons; a row with any reason is quarantined with all of
them. Coded values are resolved once per distinct value (:mod:`concord.ingest.codes`).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from concord.errors import InputError
from concord.ingest.codes import CodeResolver, Outcome
from concord.ingest.mapping import FieldMapping, LoadedMapping
from concord.records.fields import FieldKind, RecordField, field_named
from concord.vocab.model import Vocabulary
from concord.vocab.text import normalize_label

ROW = "__row__"
REASONS = "__reasons__"
VALUES = "__values__"
EARLIEST_DATE = date(1990, 1, 1)
#: Ages above this are not misreported children but input errors.
MAX_AGE = 120
_BAND_RE = re.compile(r"^(\d+)-(\d+)$")
_NO_REASONS = pl.lit([], dtype=pl.List(pl.String))
#: Working columns of a batch: a field's trimmed cell, and each check's outcome.
_RAW = "\x00raw\x00"
_CHECK = "\x00check\x00"
_INDEX = "\x00index\x00"


def _raw_column(name: str) -> str:
    return f"{_RAW}{name}"


@dataclass(frozen=True)
class Reason:
    """Why a row may be quarantined: where ``condition`` holds, ``message`` (a string, or a
    list of strings when ``many``) is one of its reasons. Conditions are cheap and evaluated on
    every row; messages are only built for the rows that fail."""

    condition: pl.Expr
    message: pl.Expr
    many: bool = False

    def item(self) -> pl.Expr:
        if self.many:
            return pl.when(self.condition).then(self.message).otherwise(_NO_REASONS)
        return pl.when(self.condition).then(self.message)


@dataclass
class BatchResult:
    """Harmonised rows that passed, rows to quarantine, and what the quality report needs."""

    records: pl.DataFrame
    quarantined: pl.DataFrame
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    raw: pl.DataFrame = field(default_factory=pl.DataFrame)
    kept_columns: list[str] = field(default_factory=list)

    def values_for(self, rows: pl.Series) -> pl.DataFrame:
        """(row, JSON of the original non-identifying values) for the rows to quarantine.

        Computed only for those rows: encoding every row of a million-row file as JSON would
        cost more than validating it.
        """
        return self.raw.filter(pl.col(ROW).is_in(rows.implode())).select(
            pl.col(ROW), pl.struct(self.kept_columns).struct.json_encode().alias(VALUES)
        )


def age_bands(vocabulary: Vocabulary) -> dict[int, str]:
    """Exact age in years → the finest age band concept (from band notations like ``3-6``)."""
    scheme = vocabulary.scheme("age_band")
    table: dict[int, str] = {}
    for concept in scheme.concepts if scheme else []:
        match = _BAND_RE.match(concept.notation or "")
        if concept.status != "active" or not match or vocabulary.narrower(concept.id):
            continue
        for age in range(int(match[1]), int(match[2]) + 1):
            table[age] = concept.id
    adult = vocabulary.get("age.adult")
    if adult is not None:
        for age in range(18, MAX_AGE + 1):
            table.setdefault(age, adult.id)
    return table


def check_columns(frame_columns: list[str], mapping: LoadedMapping, *, source: str) -> None:
    """Every column the spec names must exist in the file: one clear error listing the gaps."""
    named = {m.column for m in mapping.spec.fields.values() if m.column}
    missing = sorted(named - set(frame_columns))
    if missing:
        raise InputError(
            f"{source}: the file lacks column(s) the mapping spec "
            f"{mapping.spec.source} v{mapping.spec.version} uses: {', '.join(missing)}",
            details=[f"the file's columns are: {', '.join(c for c in frame_columns if c != ROW)}"],
        )


class BatchMapper:
    """Turns raw string batches of one source into harmonised rows and quarantined rows."""

    def __init__(
        self, mapping: LoadedMapping, vocabulary: Vocabulary, *, today: date | None = None
    ) -> None:
        self.mapping = mapping
        self.vocabulary = vocabulary
        self.resolver = CodeResolver(vocabulary, mapping.crosswalk)
        self.today = today or date.today()
        self.ages = age_bands(vocabulary)

    def map(self, frame: pl.DataFrame) -> BatchResult:
        result = BatchResult(records=pl.DataFrame(), quarantined=pl.DataFrame())
        fields = self.mapping.spec.fields
        looked_up = {n for n, spec in fields.items() if _counts_values(n, spec)}
        # Fields read as text get their trimmed cell once, as a column; looked-up fields keep
        # the cell as written and are decided once per distinct cell (see _Cells).
        work = frame.with_columns(
            self._raw(spec).alias(_raw_column(n))
            for n, spec in fields.items()
            if n not in looked_up or spec.column is None
        )
        sources = {n: fields[n].column or _raw_column(n) for n in looked_up}
        distinct = _distinct_all(work, sorted(set(sources.values())))
        cells = {
            n: _Cells.of(n, distinct[sources[n]], fields[n].default, sources[n]) for n in looked_up
        }
        work = work.with_columns(c.index_column() for c in cells.values())
        named: dict[str, pl.Expr] = {}
        reasons: list[Reason] = []
        for name, spec in fields.items():
            record_field = field_named(name)
            if name in cells:
                named[name], why = self._looked_up(record_field, spec, cells[name], result)
            else:
                raw = pl.col(_raw_column(name))
                named[name], why = self._field(record_field, spec, raw, work, result)
            reasons.extend(why)
        reasons.extend(_cross_field_reasons(named))
        result.raw = frame
        result.kept_columns = [
            c for c in frame.columns if c not in self.mapping.spec.identifying and c != ROW
        ]
        checks = [f"{_CHECK}{i}" for i in range(len(reasons))]
        # One eager select: measured faster than a lazy plan with common-subexpression
        # elimination here (polars 2.1), which materialises every shared intermediate.
        evaluated = work.select(
            pl.col(ROW),
            *(value.alias(name) for name, value in named.items()),
            *(
                r.condition.fill_null(value=False).alias(c)
                for r, c in zip(reasons, checks, strict=True)
            ),
        )
        if reasons:
            bad = evaluated.select(pl.any_horizontal(checks).alias("bad"))["bad"]
        else:
            bad = pl.Series("bad", [False] * frame.height, dtype=pl.Boolean)
        result.records = evaluated.filter(~bad).select(pl.col(ROW), *named)
        # rechunk: polars 2.1 can panic evaluating string functions on a filtered view
        failing = work.filter(bad).rechunk()
        quarantined = failing.select(
            pl.col(ROW),
            pl.concat_list([r.item() for r in reasons]).list.drop_nulls().alias(REASONS)
            if reasons
            else _NO_REASONS.alias(REASONS),
        )
        if quarantined.height and (quarantined[REASONS].list.len().fill_null(0) == 0).any():
            raise AssertionError("internal error: a quarantined row has no reason")
        result.quarantined = quarantined.join(result.values_for(quarantined[ROW]), on=ROW)
        return result

    # --- one expression per field -------------------------------------------------------

    def _raw(self, spec: FieldMapping) -> pl.Expr:
        """The trimmed cell (empty → null), with the spec's default for missing values."""
        if spec.column is None:
            return pl.lit(None if spec.default is None else str(spec.default), dtype=pl.String)
        cell = pl.col(spec.column).str.strip_chars()
        cell = pl.when(cell == "").then(None).otherwise(cell)
        if spec.default is not None:
            cell = cell.fill_null(pl.lit(str(spec.default)))
        return cell

    def _field(
        self,
        record_field: RecordField,
        spec: FieldMapping,
        raw: pl.Expr,
        frame: pl.DataFrame,
        result: BatchResult,
    ) -> tuple[pl.Expr, list[Reason]]:
        """A field read from its trimmed text: dates, numbers, free text, keys, exact ages."""
        name = record_field.name
        reasons: list[Reason] = []
        if record_field.required:
            reasons.append(Reason(raw.is_null(), pl.lit(f"{name}: missing (required)")))
        kind = record_field.kind
        if kind is FieldKind.DATE:
            return self._date(name, spec, raw, reasons)
        if kind is FieldKind.INTEGER:
            number = raw.cast(pl.Int64, strict=False)
            reasons.append(
                _when(raw.is_not_null() & number.is_null(), name, raw, "is not a whole number")
            )
            reasons.append(_when(number < 0, name, raw, "is negative"))
            return number, reasons
        if kind is FieldKind.TEXT:
            return raw.str.slice(0, 128), reasons
        if kind in (FieldKind.CONCEPT, FieldKind.CONCEPTS) and spec.exact_age:
            return self._age(name, raw, frame, result, reasons, record_field.scheme or "")
        return raw, reasons  # FieldKind.KEY: pseudonymised by the pipeline, never stored raw

    def _looked_up(
        self, record_field: RecordField, spec: FieldMapping, cells: _Cells, result: BatchResult
    ) -> tuple[pl.Expr, list[Reason]]:
        """A coded, boolean or enum field, decided once per distinct cell."""
        name = record_field.name
        reasons: list[Reason] = []
        if record_field.required:
            reasons.append(Reason(cells.missing(), pl.lit(f"{name}: missing (required)")))
        if record_field.kind is FieldKind.BOOLEAN:
            spellings: dict[str, bool] = {}
            if spec.boolean is not None:
                spellings.update({_key(s): True for s in spec.boolean.true})
                spellings.update({_key(s): False for s in spec.boolean.false})
            allowed = f"is not one of: {', '.join(sorted(spellings))}"
            return self._one_of(name, cells, spellings, allowed, pl.Boolean, reasons)
        if record_field.kind is FieldKind.ENUM:
            names: dict[str, str] = {_key(k): v for k, v in (spec.values or {}).items()}
            names.update({v: v for v in record_field.values})
            known = {k: v for k, v in names.items() if v in record_field.values}
            allowed = f"is not one of: {', '.join(record_field.values)}"
            return self._one_of(name, cells, known, allowed, pl.String, reasons)
        return self._concepts(record_field, spec, cells, result, reasons)

    @staticmethod
    def _one_of(
        name: str,
        cells: _Cells,
        table: Mapping[str, object],
        problem: str,
        dtype: pl.DataType | type[pl.DataType],
        reasons: list[Reason],
    ) -> tuple[pl.Expr, list[Reason]]:
        """A value looked up by its normalised spelling; any other spelling is a reason."""
        values = [None if v is None else table.get(_key(v)) for v in cells.values]
        messages = [
            f"{name}: '{v}' {problem}" if v is not None and value is None else None
            for v, value in zip(cells.values, values, strict=True)
        ]
        reasons.append(cells.reason(messages))
        return cells.lookup(values, dtype), reasons

    def _date(
        self, name: str, spec: FieldMapping, raw: pl.Expr, reasons: list[Reason]
    ) -> tuple[pl.Expr, list[Reason]]:
        fmt = spec.date_format or "%Y-%m-%d"
        parsed = raw.str.strptime(pl.Date, fmt, strict=False, exact=True)
        reasons.append(
            _when(raw.is_not_null() & parsed.is_null(), name, raw, f"is not a date like {fmt}")
        )
        reasons.append(_when(parsed > self.today, name, raw, "is in the future"))
        reasons.append(_when(parsed < EARLIEST_DATE, name, raw, "is before 1990"))
        return parsed, reasons

    def _concepts(
        self,
        record_field: RecordField,
        spec: FieldMapping,
        cells: _Cells,
        result: BatchResult,
        reasons: list[Reason],
    ) -> tuple[pl.Expr, list[Reason]]:
        """Coded fields: each distinct cell is split, resolved and explained once (a few
        hundred cells at most), then every row gets its cell's answer by position."""
        name, scheme = record_field.name, record_field.scheme or ""
        multi = record_field.kind is FieldKind.CONCEPTS
        separator = spec.split if multi else None
        parts_of = [
            []
            if value is None
            else [p.strip() for p in (value.split(separator) if separator else [value])]
            for value in cells.values
        ]
        counts: Counter[str] = Counter()
        for parts, count in zip(parts_of, cells.counts, strict=True):
            for part in filter(None, parts):
                counts[part] += count
        mapped, messages = self._resolve(name, scheme, dict(counts), result, spec)
        ids_of = [
            list(dict.fromkeys(mapped[p] for p in parts if p in mapped)) for parts in parts_of
        ]
        whys = [[messages[p] for p in parts if p in messages] for parts in parts_of]
        reasons.append(cells.reasons(whys))
        if multi:
            empty = pl.lit([], dtype=pl.List(pl.String))
            return cells.lookup(ids_of, pl.List(pl.String)).fill_null(empty), reasons
        return cells.lookup([ids[0] if ids else None for ids in ids_of], pl.String), reasons

    def _age(
        self,
        name: str,
        raw: pl.Expr,
        frame: pl.DataFrame,
        result: BatchResult,
        reasons: list[Reason],
        scheme: str,
    ) -> tuple[pl.Expr, list[Reason]]:
        years = raw.str.replace(r"[.,]0+$", "").cast(pl.Int64, strict=False)
        texts = _distinct(frame, raw.filter(years.is_null()))
        mapped, messages = self._resolve(name, scheme, texts, result, None)
        by_text = raw.replace_strict(mapped, default=None, return_dtype=pl.String)
        by_age = years.replace_strict(self.ages, default=None, return_dtype=pl.String)
        message = raw.replace_strict(messages, default=None, return_dtype=pl.String)
        reasons.append(Reason(years.is_null() & message.is_not_null(), message))
        reasons.append(
            _when((years < 0) | (years > MAX_AGE), name, raw, "is not a possible age in years")
        )
        return pl.coalesce(by_age, by_text), reasons

    def _resolve(
        self,
        name: str,
        scheme: str,
        distinct: dict[str, int],
        result: BatchResult,
        spec: FieldMapping | None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """value → concept id for resolvable values; value → reason for the others."""
        mapped: dict[str, str] = {}
        messages: dict[str, str] = {}
        local = {_key(k): v for k, v in (spec.values or {}).items()} if spec else {}
        for value, count in distinct.items():
            if _key(value) in local:
                mapped[value] = local[_key(value)]
                continue
            resolution = self.resolver.resolve(scheme, value)
            if resolution.outcome is Outcome.MAPPED and resolution.concept_id:
                mapped[value] = resolution.concept_id
            elif resolution.outcome is Outcome.UNMAPPED:
                result.unmapped[(name, value)] += count  # stored as "no value", counted
            else:
                result.unknown[(name, value)] += count
                messages[value] = f"{name}: {resolution.message}"
        return mapped, messages


def _cross_field_reasons(named: dict[str, pl.Expr]) -> list[Reason]:
    """Rules that look at several harmonised values of a row at once."""
    if "occurred_date" not in named or "received_date" not in named:
        return []
    late = named["occurred_date"] > named["received_date"]
    return [Reason(late, pl.lit("occurred_date: is after received_date"))]


def _when(condition: pl.Expr, name: str, raw: pl.Expr, problem: str) -> Reason:
    """The reason ``"<field>: '<value>' <problem>"`` where ``condition`` holds."""
    return Reason(condition, pl.format(f"{name}: '{{}}' {problem}", raw))


@functools.lru_cache(maxsize=65536)
def _key(text: str) -> str:
    """How spellings in a mapping spec are compared: case, accents and spacing ignored."""
    return normalize_label(text)


def _counts_values(name: str, spec: FieldMapping) -> bool:
    """Whether a field's mapping looks its distinct values up (coded, boolean, enum fields)."""
    kind = field_named(name).kind
    if kind in (FieldKind.CONCEPT, FieldKind.CONCEPTS):
        return not spec.exact_age
    return kind in (FieldKind.BOOLEAN, FieldKind.ENUM)


def _distinct_all(frame: pl.DataFrame, columns: list[str]) -> dict[str, dict[str | None, int]]:
    """The distinct cells of several columns with how often each occurs (None: null cells),
    in one parallel pass."""
    if not columns:
        return {}
    row = frame.lazy().select(pl.col(c).value_counts(name="n").implode() for c in columns).collect()
    out: dict[str, dict[str | None, int]] = {}
    for column in columns:
        pairs = row[column][0]
        out[column] = {item[column]: int(item["n"]) for item in pairs}
    return out


@dataclass(frozen=True)
class _Cells:
    """A looked-up field's distinct cells in one batch, and each row's position among them.

    Why: a coded column of a million rows holds a few dozen distinct cells. What a cell means
    (its value, whether it is valid, why not) is decided once per cell in Python and reaches
    the rows by position (a gather), so no row is trimmed, split or hashed again; this is what
    keeps mapping well ahead of a row-by-row validator (docs/performance.md).
    """

    #: The distinct cells as written (untrimmed), plus the spec's default if it is missing.
    cells: list[str]
    #: Rows per cell (empty cells counted under the default, if any).
    counts: list[int]
    #: Each cell trimmed, the default for a blank one, or None (no value).
    values: list[str | None]
    column: str
    #: Where in :attr:`cells` the spec's default is (empty cells point there), if it has one.
    default_index: int | None
    index_name: str

    @classmethod
    def of(cls, name: str, counts: dict[str | None, int], default: object, column: str) -> _Cells:
        cells = [c for c in counts if c is not None]
        numbers = [counts[c] for c in cells]
        fallback = None if default is None else str(default)
        position = None
        if fallback is not None:
            if fallback not in cells:
                cells.append(fallback)
                numbers.append(0)
            position = cells.index(fallback)
            numbers[position] += counts.get(None, 0)
        values = [c.strip() or fallback for c in cells]
        return cls(cells, numbers, values, column, position, f"{_INDEX}{name}")

    def index_column(self) -> pl.Expr:
        """Each row's position in :attr:`cells` (null where the cell is empty)."""
        index = pl.col(self.column).cast(pl.Enum(self.cells)).to_physical()
        if self.default_index is not None:
            index = index.fill_null(self.default_index)
        return index.alias(self.index_name)

    def lookup(self, per_cell: list[Any], dtype: pl.DataType | type[pl.DataType]) -> pl.Expr:
        """Each row's entry of ``per_cell`` (one entry per cell), null for an empty cell."""
        return pl.lit(pl.Series(per_cell, dtype=dtype)).gather(pl.col(self.index_name))

    def missing(self) -> pl.Expr:
        blank = [v is None for v in self.values]
        return pl.col(self.index_name).is_null() | self.lookup(blank, pl.Boolean)

    def reason(self, messages: list[str | None]) -> Reason:
        """The reason each cell's message gives (None: the cell is fine)."""
        return Reason(
            self.lookup([m is not None for m in messages], pl.Boolean),
            self.lookup(messages, pl.String),
        )

    def reasons(self, messages: list[list[str]]) -> Reason:
        """Several reasons per cell (one per unknown part of a multi-valued cell)."""
        return Reason(
            self.lookup([bool(m) for m in messages], pl.Boolean),
            self.lookup(messages, pl.List(pl.String)),
            many=True,
        )


def _distinct(frame: pl.DataFrame, expr: pl.Expr) -> dict[str, int]:
    """The distinct non-null values of ``expr`` over ``frame`` with how often each occurs."""
    counts = frame.select(expr.drop_nulls().alias("v")).group_by("v").len()
    return dict(zip(counts["v"].to_list(), counts["len"].to_list(), strict=True))
