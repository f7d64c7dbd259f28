"""What one synthetic partner organisation exports, described as data.

A :class:`Profile` says, column by column, how a fictional hotline, helpline, NGO, country office
or platform writes its records: its own column names, its own labels (and which Concord concept
each one means), its date formats, file format and encoding. The generator, the writers, the
mapping spec and the crosswalk are all derived from the profile, so they cannot disagree.

Why profiles are plain frozen dataclasses rather than YAML: they carry generation parameters
(weights, trends, rates) next to the labels, and a typo in a field name should fail at import in
the type checker, not at run time in a demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

#: The period every organisation's records fall in (received dates), before planted problems.
DATA_START = date(2023, 1, 1)
DATA_END = date(2026, 9, 30)

#: Concepts whose share rises over time (the sexual-extortion trend every profile shows).
SEXTORTION = frozenset({"abuse.sexual_extortion", "abuse.financial_sexual_extortion"})
#: Concepts that mean material was made without a real child (forces the AI-generated flag).
GENERATED = frozenset({"abuse.ai_generated_csam", "abuse.generated_csam"})
#: Concepts that mean the child produced the material (forces the self-generated flag).
SELF_GENERATED = frozenset(
    {"abuse.self_generated", "abuse.self_generated_voluntary", "abuse.self_generated_coerced"}
)


class Format(StrEnum):
    """The file formats partners send; the value is the mapping spec's ``reader.format``."""

    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    JSONL = "jsonl"
    KOBO = "kobo"


@dataclass(frozen=True)
class Reader:
    """How the file is written, and what the mapping spec tells a reader about it."""

    format: Format
    suffix: str
    encoding: str = "utf-8"
    delimiter: str | None = None
    sheet: str | None = None
    #: Windows exports end lines with CRLF; readers handle both, so the spec does not say.
    line_terminator: str = "\n"

    def spec(self) -> dict[str, str]:
        """The ``reader:`` mapping of the mapping spec."""
        result: dict[str, str] = {"format": str(self.format)}
        if self.format is not Format.XLSX:
            result["encoding"] = self.encoding
        if self.delimiter is not None:
            result["delimiter"] = self.delimiter
        if self.sheet is not None:
            result["sheet"] = self.sheet
        return result


@dataclass(frozen=True)
class Choice:
    """One value an organisation writes, and the Concord concept it means.

    ``target`` ``None`` leaves the value unmapped on purpose: the crosswalk lists it without a
    target, and the manifest records it, so ingestion tests can check such records are
    quarantined rather than guessed. ``trend`` multiplies the weight once per year from
    :data:`DATA_START` (1.6 means the value is 60% more frequent each year).
    """

    text: str
    target: str | None
    weight: float = 1.0
    trend: float = 1.0
    #: The organisation's internal code, written in the crosswalk's ``code`` column.
    code: str | None = None
    #: A human label for the crosswalk when ``text`` itself is a code (e.g. "CSAM").
    label: str | None = None


@dataclass(frozen=True)
class LabelField:
    """A column whose values go through the crosswalk (``scheme``) to concept ids."""

    field: str
    column: str
    scheme: str
    choices: tuple[Choice, ...]
    #: Separator when a record may carry several values ("Pédopornographie|Chantage sexuel").
    split: str | None = None
    #: Share of records with a second value (only with ``split``).
    second_rate: float = 0.0
    #: True when the values are codes, matched exactly: spelling variants are then only
    #: surrounding spaces (a crosswalk code "CSAM" does not match "csam", by design).
    codes: bool = False
    #: Values in no version of the crosswalk (retired categories), planted as unknown codes.
    unknown: tuple[str, ...] = ()
    #: Weight multipliers for records about sexual extortion: (target, factor) pairs.
    sextortion_boost: tuple[tuple[str, float], ...] = ()
    #: KoboToolbox select_multiple: one extra 0/1 column per option, named ``column/option``.
    option_columns: bool = False


@dataclass(frozen=True)
class Band:
    """An age band as the organisation writes it, covering ages ``low``..``high`` inclusive."""

    text: str
    target: str | None
    low: int
    high: int
    code: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class AgeBandField:
    """The victim's age in the organisation's own bands (a label through the crosswalk)."""

    column: str
    bands: tuple[Band, ...]
    unknown: Choice
    codes: bool = False
    unknown_codes: tuple[str, ...] = ()
    #: Share of records whose age the organisation could not assess.
    unknown_rate: float = 0.12
    field: str = "victim_age_band"
    scheme: str = "age_band"


@dataclass(frozen=True)
class ExactAgeField:
    """The victim's exact age in years (blank when unknown); ingestion derives the band."""

    column: str
    missing_rate: float = 0.15
    field: str = "victim_age_band"


@dataclass(frozen=True)
class KeyField:
    """The organisation's own record key: ``seq`` (DEN0000042), ``year_seq`` (X-2024-000042)
    or ``uuid`` (KoboToolbox ``_uuid``)."""

    column: str
    style: Literal["seq", "year_seq", "uuid"]
    prefix: str = ""
    width: int = 6
    field: str = "source_record_key"


@dataclass(frozen=True)
class DateField:
    """``received_date`` or ``occurred_date`` in a strftime format of the organisation's."""

    field: Literal["received_date", "occurred_date"]
    column: str
    fmt: str
    #: Natural share of blanks (the date of the facts is often unknown); never planted.
    missing_rate: float = 0.0


@dataclass(frozen=True)
class CountField:
    """Number of child victims in the record; ``extra_rate`` of records name more than one."""

    column: str
    extra_rate: float = 0.05
    field: str = "victim_count"


@dataclass(frozen=True)
class FlagField:
    """A yes/no column (self-generated, AI-generated, referral made).

    ``p_true`` is the share of "yes" in 2023, multiplied by ``trend`` each year; records whose
    abuse type is in ``forced_by`` are always "yes" (a coerced self-generated image is
    self-generated). ``also_true``/``also_false`` are spellings that occur and the spec lists.
    """

    field: Literal["self_generated", "ai_generated", "referral_made"]
    column: str
    true_text: str
    false_text: str
    p_true: float
    trend: float = 1.0
    forced_by: frozenset[str] = frozenset()
    missing_rate: float = 0.0
    also_true: tuple[str, ...] = ()
    also_false: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusValue:
    """A case status as written, the plain value it means, and how common it is.

    ``recent_weight`` applies to records received in the last 120 days of the period, because
    recent cases are still open far more often than old ones.
    """

    text: str
    value: Literal["open", "closed", "pending"]
    weight: float
    recent_weight: float


@dataclass(frozen=True)
class StatusField:
    column: str
    values: tuple[StatusValue, ...]
    field: str = "case_status"


@dataclass(frozen=True)
class AreaField:
    """Region or state, filled only for records in the organisation's own country."""

    column: str
    areas: tuple[str, ...]
    field: str = "subnational_area"


@dataclass(frozen=True)
class IdentifyingField:
    """A column that identifies a person and must never be stored in clear.

    The values are fictional: first names from a short list of common names, phone numbers in
    ranges reserved for fiction or visibly padded with zeros, and bland template narratives.
    """

    column: str
    kind: Literal["first_name", "phone", "narrative", "handle"]
    missing_rate: float = 0.0
    #: The purpose the mapping names to keep this column (encrypted); None: always dropped.
    keep_for: str | None = None


@dataclass(frozen=True)
class KoboMeta:
    """A KoboToolbox metadata column (``start``, ``_id``, ...): exported, never mapped."""

    column: str
    kind: Literal[
        "start", "end", "today", "submitted", "version", "id", "validation", "status", "by", "index"
    ]


Field = (
    KeyField
    | DateField
    | LabelField
    | AgeBandField
    | ExactAgeField
    | CountField
    | FlagField
    | StatusField
    | AreaField
    | IdentifyingField
    | KoboMeta
)

#: Labelled fields: the ones whose values are looked up in the crosswalk.
Labelled = LabelField | AgeBandField


@dataclass(frozen=True)
class Profile:
    """One fictional organisation: who it is, and exactly what its export looks like."""

    slug: str
    name: str
    kind: str
    country: str
    language: str
    description: str
    reader: Reader
    fields: tuple[Field, ...]
    #: First day the organisation has records (a structural break: it started using a system).
    start: date = DATA_START
    #: Yearly growth of the organisation's volume (1.2: 20% more records each year).
    growth: float = 1.1
    #: Relative volume per calendar month, January first.
    seasonality: tuple[float, ...] = (
        0.95, 0.9, 1.0, 1.0, 1.0, 0.95, 1.1, 1.15, 1.0, 1.0, 1.0, 1.2,
    )  # fmt: skip
    #: Relative volume Monday..Sunday (helplines are quieter at weekends).
    weekdays: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    #: Problem kinds (``concord.synth.messiness.Problem`` values) never planted for this one.
    immune: frozenset[str] = frozenset()
    #: Most rows the format can hold (Excel: 1,048,576 rows a sheet, one for the header).
    max_rows: int | None = None

    @property
    def labelled(self) -> list[Labelled]:
        return [f for f in self.fields if isinstance(f, LabelField | AgeBandField)]

    def field_named(self, name: str) -> Field | None:
        """The field that fills canonical field ``name`` (e.g. ``"received_date"``)."""
        for item in self.fields:
            if getattr(item, "field", None) == name:
                return item
        return None

    @property
    def identifying(self) -> list[str]:
        return [f.column for f in self.fields if isinstance(f, IdentifyingField)]

    @property
    def kept(self) -> dict[str, str]:
        """Identifying columns the mapping keeps for a purpose (if the organisation holds it)."""
        return {
            f.column: f.keep_for
            for f in self.fields
            if isinstance(f, IdentifyingField) and f.keep_for is not None
        }

    @property
    def columns(self) -> list[str]:
        """The file's header (KoboToolbox option columns included)."""
        result: list[str] = []
        for item in self.fields:
            result.append(item.column)
            if isinstance(item, LabelField) and item.option_columns:
                result.extend(option_column(item, c) for c in item.choices)
        return result


def option_column(label_field: LabelField, choice: Choice) -> str:
    """KoboToolbox's name for a select_multiple option column: ``group/question/option``."""
    return f"{label_field.column}/{choice.text}"
