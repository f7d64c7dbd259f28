"""Indicator definitions: what is counted, over what, broken down how, and shown to whom.

A definition is data (YAML shipped in ``indicators/data/`` or written by a user), validated in
two steps that each list every problem at once: its *shape* (pydantic), then its *meaning*
against the harmonised record fields and the vocabulary (unknown fields, unknown concepts, a
concept from the wrong scheme, a breakdown that is not a coded field). Why so strict: the
point of shared indicators is that every organisation computes the same number the same way;
a misspelt concept id would silently count nothing.

Filters (``numerator``, ``denominator.filter``) map a field to the values that match; values
of one field are alternatives (OR), fields must all match (AND), and a concept matches its
narrower concepts too (``abuse.sexual_extortion`` also counts ``abuse.financial_sexual_extortion``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import IndicatorDefinitionRow
from concord.errors import InputError, NotFoundError
from concord.indicators.frame import (
    DIMENSIONS,
    Filter,
    canonical_dimension,
    dimension_named,
    filter_problems,
)
from concord.records.fields import FieldKind, field_named
from concord.validation import describe_validation_error
from concord.vocab.model import Vocabulary
from concord.yamlio import read_yaml

SHIPPED_DIR = Path(str(files("concord.indicators") / "data"))
ID_RE = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"

Kind = Literal["count", "share", "rate", "median"]
PeriodName = Literal["month", "quarter", "year"]
HigherIs = Literal["better", "worse", "neutral"]

#: Reference tables a rate can divide by (by country and year).
TABLES: dict[str, str] = {"child_population": "children (0-17) living in the country that year"}


@dataclass(frozen=True)
class ValueSpec:
    """A named per-record measure a definition can use instead of counting records."""

    kinds: frozenset[str]
    source: Literal["records", "batches", "releases"]
    unit: str
    description: str
    takes_fields: bool = False


#: The measures :mod:`concord.indicators.compute` implements, by name.
VALUES: dict[str, ValueSpec] = {
    "delay_days": ValueSpec(
        frozenset({"median"}), "records", "days", "days from occurred_date to received_date"
    ),
    "organisations": ValueSpec(
        frozenset({"count"}), "records", "organisations", "distinct organisations with records"
    ),
    "fields_present": ValueSpec(
        frozenset({"share"}),
        "records",
        "%",
        "of the listed fields, the share holding a value",
        takes_fields=True,
    ),
    "codes_mapped": ValueSpec(
        frozenset({"share"}),
        "batches",
        "%",
        "of the coded values imported, the share mapped to the shared vocabulary",
    ),
    "releases_on_time": ValueSpec(
        frozenset({"share"}),
        "releases",
        "%",
        "of the releases agreements scheduled, the share delivered by the due date",
    ),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Disclosure(_Strict):
    #: Why 10: small counts about child victims can identify a child; the field's guidance (and
    #: Concord's reference notes) suggest 10. Zero means "no child-level data: nothing to hide".
    min_cell: int = Field(default=10, ge=0)


class Denominator(_Strict):
    """A share's denominator (a filter; by default every record in the cell) or a rate's
    reference table and multiplier."""

    filter: Filter = Field(default_factory=dict)
    table: str | None = None
    per: int | None = Field(default=None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _bare_filter(cls, value: Any) -> Any:
        # ``denominator: {self_generated: [true, false]}`` is the filter itself.
        if isinstance(value, dict) and value and not {"filter", "table", "per"} & set(value):
            return {"filter": value}
        return value


class IndicatorDefinition(_Strict):
    """One indicator, versioned: a change of meaning is a new version, never an edit."""

    id: str = Field(pattern=ID_RE, max_length=128)
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    kind: Kind
    numerator: Filter = Field(default_factory=dict)
    denominator: Denominator | None = None
    value: str | None = None
    #: The fields ``value: fields_present`` looks at.
    fields: list[str] = Field(default_factory=list)
    #: Dimensions the indicator is always broken down by (part of its meaning).
    breakdown: list[str] = Field(default_factory=list)
    #: Further dimensions a user may break it down by.
    disaggregations: list[str] = Field(default_factory=list)
    period: PeriodName = "month"
    higher_is: HigherIs = "neutral"
    #: Periods forming the baseline (default: 12 months, 8 quarters or 6 years).
    baseline_periods: int | None = Field(default=None, ge=6, le=240)
    unit: str | None = None
    disclosure: Disclosure = Field(default_factory=Disclosure)
    caveats: list[str] = Field(default_factory=list)
    status: Literal["active", "planned"] = "active"
    #: For a planned indicator: what it waits for, shown instead of a number.
    needs: str | None = None

    @property
    def source(self) -> str:
        spec = VALUES.get(self.value or "")
        return spec.source if spec else "records"

    def dimensions(self) -> list[str]:
        """Every dimension this indicator may be computed by (canonical names)."""
        names = [canonical_dimension(n) for n in (*self.breakdown, *self.disaggregations)]
        return list(dict.fromkeys(names))

    def baseline_window(self) -> int:
        """How many periods the baseline spans: the definition's, or a year of months, two of
        quarters, six years (a baseline needs at least six observed values to measure spread)."""
        return self.baseline_periods or {"month": 12, "quarter": 8, "year": 6}[self.period]

    def unit_label(self) -> str:
        """What ``value`` is in: ``reports``, ``%``, ``per 100,000 children``, ``days``."""
        if self.unit:
            return self.unit
        spec = VALUES.get(self.value or "")
        if spec:
            return spec.unit
        if self.kind == "rate" and self.denominator and self.denominator.per:
            return f"per {self.denominator.per:,} children"
        return {"count": "reports", "share": "%", "rate": "rate", "median": "days"}[self.kind]


# --- meaning: checked against the record fields and the vocabulary -------------------------


def definition_problems(definition: IndicatorDefinition, vocabulary: Vocabulary) -> list[str]:
    """Every way ``definition`` does not make sense; empty when it is valid."""
    d = definition
    problems = [f"numerator.{p}" for p in filter_problems(d.numerator, vocabulary)]
    problems += _denominator_problems(d, vocabulary)
    problems += _value_problems(d)
    for key in ("breakdown", "disaggregations"):
        for name in getattr(d, key):
            if dimension_named(name) is None:
                problems.append(
                    f"{key}: {name!r} is not a coded field an indicator can be broken down by; "
                    f"valid: {', '.join(DIMENSIONS)}"
                )
    if d.kind == "rate" and "country" not in [canonical_dimension(n) for n in d.breakdown]:
        problems.append("breakdown: a rate is per country (its population table is), add country")
    if d.status == "planned" and not d.needs:
        problems.append("needs: a planned indicator says what it is waiting for")
    return problems


def _denominator_problems(d: IndicatorDefinition, vocabulary: Vocabulary) -> list[str]:
    den = d.denominator
    if den is None:
        return ["denominator: a rate needs a reference table and 'per'"] if d.kind == "rate" else []
    if d.kind in ("count", "median"):
        return [f"denominator: a {d.kind} indicator has no denominator"]
    if d.kind == "share":
        problems = [f"denominator.filter.{p}" for p in filter_problems(den.filter, vocabulary)]
        if den.table or den.per:
            problems.append("denominator: a share divides by records; 'table'/'per' are for rates")
        return problems
    problems = []
    if den.table not in TABLES:
        problems.append(
            f"denominator.table: {den.table!r} is not a reference table; valid: {', '.join(TABLES)}"
        )
    if den.per is None:
        problems.append("denominator.per: a rate says per how many (e.g. 100000)")
    if den.filter:
        problems.append("denominator.filter: a rate divides by its table, not by records")
    return problems


def _value_problems(d: IndicatorDefinition) -> list[str]:
    problems: list[str] = []
    spec = VALUES.get(d.value) if d.value else None
    if d.value and spec is None:
        problems.append(f"value: {d.value!r} is not a known measure; valid: {', '.join(VALUES)}")
    elif spec and d.kind not in spec.kinds:
        problems.append(f"value: {d.value!r} applies to {'/'.join(sorted(spec.kinds))} only")
    if d.kind == "median" and not d.value:
        problems.append("value: a median needs a measure, e.g. delay_days")
    if spec and spec.takes_fields and not d.fields:
        problems.append(f"fields: {d.value!r} needs the list of fields it looks at")
    if d.fields and not (spec and spec.takes_fields):
        problems.append("fields: only 'value: fields_present' takes a list of fields")
    for name in d.fields:
        try:
            if field_named(name).kind is FieldKind.KEY:
                problems.append(f"fields: {name!r} is stored as a pseudonym, always present")
        except InputError as exc:
            problems.append(f"fields: {exc.message}")
    if spec and spec.source in ("batches", "releases"):
        extra = [n for n in d.dimensions() if n != "source_org"]
        unit = "import" if spec.source == "batches" else "scheduled release"
        if extra:
            problems.append(
                f"{d.value!r} is computed per {unit}: only source_org can break it down"
            )
    if d.value == "organisations" and "source_org" in d.dimensions():
        problems.append("counting organisations by organisation is always 1; remove source_org")
    return problems


# --- reading YAML --------------------------------------------------------------------------


def parse_definitions(document: Any, *, source: str) -> list[IndicatorDefinition]:
    """Shape-check one YAML document: a definition, or ``indicators:`` with a list of them."""
    items = document.get("indicators") if isinstance(document, dict) else None
    if items is None:
        items = [document]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(f"{source}: expected an indicator definition (a mapping) or 'indicators:'")
    definitions: list[IndicatorDefinition] = []
    problems: list[str] = []
    for position, item in enumerate(items):
        where = source if len(items) == 1 else f"{source} [{item.get('id', position)}]"
        try:
            definitions.append(IndicatorDefinition.model_validate(item))
        except ValidationError as exc:
            problems += describe_validation_error(exc, where)
    if problems:
        raise InputError(
            f"{source}: the indicator definition has the wrong shape", details=problems
        )
    return definitions


def validate_definitions(
    definitions: Sequence[IndicatorDefinition], vocabulary: Vocabulary, *, source: str
) -> None:
    """Check meaning and unique ids of ``definitions``; one InputError lists every problem."""
    problems: list[str] = []
    seen: set[str] = set()
    for d in definitions:
        problems += [f"{d.id}: {p}" for p in definition_problems(d, vocabulary)]
        if d.id in seen:
            problems.append(f"{d.id}: defined twice (indicator ids are unique)")
        seen.add(d.id)
    if problems:
        raise InputError(
            f"{source}: {len(problems)} problem(s) in the indicator definitions", details=problems
        )


def load_definitions(path: Path, vocabulary: Vocabulary | None = None) -> list[IndicatorDefinition]:
    """Definitions from a YAML file or every ``*.yaml``/``*.yml`` in a directory, validated."""
    from concord.vocab.loader import shipped_vocabulary

    if path.is_dir():
        paths = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not paths:
            raise NotFoundError(f"{path}: no indicator definitions (*.yaml) in this directory")
    else:
        paths = [path]
    definitions = [d for p in paths for d in parse_definitions(read_yaml(p), source=str(p))]
    validate_definitions(definitions, vocabulary or shipped_vocabulary(), source=str(path))
    return definitions


@lru_cache(maxsize=1)
def _shipped() -> tuple[IndicatorDefinition, ...]:
    return tuple(load_definitions(SHIPPED_DIR))


def shipped_definitions() -> list[IndicatorDefinition]:
    """The definitions shipped with Concord (parsed and validated once per process)."""
    return list(_shipped())


class IndicatorRegistry:
    """The indicators a node knows, by id: the shipped ones go in through the same door as a
    user's (:meth:`add`), and a duplicate id is refused rather than silently replaced."""

    def __init__(self, definitions: Iterable[IndicatorDefinition] = ()) -> None:
        self._by_id: dict[str, IndicatorDefinition] = {}
        for d in definitions:
            self.add(d)

    def add(self, definition: IndicatorDefinition) -> None:
        if definition.id in self._by_id:
            raise InputError(
                f"indicator {definition.id!r} is already defined; a changed meaning needs a new "
                "id, or a new version of the definition in place of the old one"
            )
        self._by_id[definition.id] = definition

    def get(self, indicator_id: str) -> IndicatorDefinition:
        try:
            return self._by_id[indicator_id]
        except KeyError:
            raise NotFoundError(
                f"no indicator {indicator_id!r}; see `concord indicators list`"
            ) from None

    def __iter__(self) -> Iterator[IndicatorDefinition]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def default_registry(
    extra: Path | None = None,
    vocabulary: Vocabulary | None = None,
    session: Session | None = None,
) -> IndicatorRegistry:
    """The shipped definitions, those stored in the database (``session``) and, optionally, a
    user's file or directory of them."""
    registry = IndicatorRegistry(shipped_definitions())
    for d in stored_definitions(session) if session is not None else []:
        registry.add(d)
    for d in load_definitions(extra, vocabulary) if extra else []:
        registry.add(d)
    return registry


# --- user-defined definitions kept in the database ----------------------------------------


def save_definition(
    session: Session, definition: IndicatorDefinition, vocabulary: Vocabulary, *, created_by: str
) -> bool:
    """Store a user's definition (checked first); False when that exact version is stored.

    Why versions are append-only: a value computed last year names the definition it used, so
    a stored version never changes; a changed meaning is saved as a higher version.
    """
    validate_definitions([definition], vocabulary, source=f"indicator {definition.id}")
    if definition.id in {d.id for d in shipped_definitions()}:
        raise InputError(f"{definition.id!r} is a shipped indicator; give yours its own id")
    body = definition.model_dump(mode="json")
    rows = session.scalars(
        select(IndicatorDefinitionRow).where(IndicatorDefinitionRow.indicator_id == definition.id)
    ).all()
    same = next((r for r in rows if r.version == definition.version), None)
    if same is not None:
        if same.body == body:
            return False
        raise InputError(
            f"version {definition.version} of {definition.id!r} is already stored with another "
            f"meaning; save the change as version {max(r.version for r in rows) + 1}"
        )
    session.add(
        IndicatorDefinitionRow(
            indicator_id=definition.id,
            version=definition.version,
            body=body,
            created_by=created_by,
            created_at=datetime.now(UTC),
        )
    )
    session.flush()
    return True


def stored_definitions(session: Session) -> list[IndicatorDefinition]:
    """The latest stored version of every user-defined indicator."""
    latest: dict[str, IndicatorDefinitionRow] = {}
    for row in session.scalars(select(IndicatorDefinitionRow).order_by(IndicatorDefinitionRow.id)):
        if row.indicator_id not in latest or row.version > latest[row.indicator_id].version:
            latest[row.indicator_id] = row
    return [IndicatorDefinition.model_validate(r.body) for r in latest.values()]
