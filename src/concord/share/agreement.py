"""A sharing agreement as data: who shares what with whom, why, under which disclosure rules.

Why data and not a PDF protocol: the release pipeline evaluates an agreement rule by rule, so
every rule must be a field with a meaning the software can check. The YAML form is what a data
steward writes and what parties exchange; :func:`parse_agreement` turns it into an
:class:`Agreement` or lists *every* problem at once (a steward fixes a file in one pass, not one
error per run).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from concord.errors import InputError
from concord.indicators.frame import DIMENSIONS, dimension_named
from concord.protect.purposes import DEFAULT_PURPOSES
from concord.slugs import ORG_SLUG, ORG_SLUG_PATTERN
from concord.validation import describe_validation_error
from concord.yamlio import parse_yaml

#: Agreement ids are stable slugs: they name the agreement in bundles and audit entries.
AGREEMENT_ID = r"^[a-z0-9][a-z0-9_.-]{1,127}$"
#: The organisation slug rule of :mod:`concord.protect.identity`.
_PURPOSE_SLUG = r"^[a-z][a-z0-9_]{1,63}$"


class Level(StrEnum):
    """How close to single children the shared data gets."""

    AGGREGATE = "aggregate"
    PSEUDONYMISED_RECORDS = "pseudonymised_records"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    AD_HOC = "ad_hoc"


class Marking(StrEnum):
    """FIRST Traffic Light Protocol 2.0: how far the recipient may pass on what it receives."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class OnwardSharing(StrEnum):
    """The common onward-sharing rules; an agreement may instead state its own rule as text."""

    NONE = "none"
    WITHIN_RECIPIENT = "within_recipient"
    AS_MARKING = "as_marking"


class _Strict(BaseModel):
    # extra="forbid": a misspelt key ("min_cel") must be an error, not a silently ignored rule.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DifferentialPrivacy(_Strict):
    """A privacy-loss budget: ``epsilon`` may be spent per ``period``, then releases stop."""

    epsilon: float = Field(gt=0, allow_inf_nan=False)
    period: Literal["month", "quarter", "year"]


class Disclosure(_Strict):
    """Disclosure control every release under the agreement must pass."""

    #: 10 by default: the small-cell threshold most statistical offices use for sensitive counts.
    min_cell: int = Field(default=10, ge=1)
    rounding_base: int | None = Field(default=None, ge=1)
    dp: DifferentialPrivacy | None = None
    #: Dimension combinations that must never appear together in one table.
    never_cross: list[list[str]] = Field(default_factory=list)

    @field_validator("dp", mode="before")
    @classmethod
    def _none_spelt_out(cls, value: Any) -> Any:
        # Stewards write `dp: none`; YAML reads that as the string "none", not null.
        return None if isinstance(value, str) and value.strip().lower() == "none" else value


class Shares(_Strict):
    """What may be shared: indicator ids, dimensions to break them down by, record fields."""

    indicators: list[str] = Field(default_factory=list)
    dimensions: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)


class Agreement(_Strict):
    """One version of a sharing agreement. Cross-field rules live in :func:`agreement_problems`."""

    id: str = Field(pattern=AGREEMENT_ID)
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    provider: str = Field(pattern=ORG_SLUG_PATTERN)
    recipients: list[str] = Field(min_length=1)
    purpose: str = Field(pattern=_PURPOSE_SLUG)
    legal_basis: str = Field(min_length=1)
    shares: Shares
    level: Level
    disclosure: Disclosure = Field(default_factory=Disclosure)
    frequency: Frequency
    valid_from: date
    valid_to: date
    marking: Marking
    # left_to_right: "none" is the enum value, not free text that happens to say "none".
    onward_sharing: OnwardSharing | Annotated[str, StringConstraints(min_length=1)] = Field(
        union_mode="left_to_right"
    )
    consent_required: bool

    @field_validator("recipients")
    @classmethod
    def _recipient_slugs(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not ORG_SLUG.match(r)]
        if bad:
            raise ValueError(f"not organisation ids: {', '.join(map(repr, bad))}")
        return value

    @property
    def parties(self) -> list[str]:
        """Everyone who must approve: the provider, then each recipient."""
        return [self.provider, *[r for r in self.recipients if r != self.provider]]

    def body(self) -> dict[str, Any]:
        """The JSON-native form stored in the database and compared between imports."""
        return self.model_dump(mode="json")


def agreement_problems(
    agreement: Agreement, *, known_purposes: Collection[str] | None = None
) -> list[str]:
    """Rules that span several fields; ``known_purposes`` defaults to the shipped purposes."""
    purposes = (
        set(known_purposes) if known_purposes is not None else {p.slug for p in DEFAULT_PURPOSES}
    )
    problems: list[str] = []
    if agreement.valid_to <= agreement.valid_from:
        problems.append(
            f"valid_to: {agreement.valid_to} must be after valid_from {agreement.valid_from}"
        )
    if agreement.provider in agreement.recipients:
        problems.append(f"recipients: the provider {agreement.provider!r} cannot also receive")
    if len(set(agreement.recipients)) != len(agreement.recipients):
        problems.append("recipients: an organisation is listed more than once")
    if agreement.purpose not in purposes:
        problems.append(
            f"purpose: {agreement.purpose!r} is not a known purpose ({', '.join(sorted(purposes))})"
        )
    shares = agreement.shares
    if not (shares.indicators or shares.dimensions or shares.fields):
        problems.append("shares: name at least one indicator, dimension or field")
    if agreement.level is Level.PSEUDONYMISED_RECORDS:
        # Why: record-level data about children leaves an organisation only with consent.
        if not agreement.consent_required:
            problems.append("consent_required: must be true for pseudonymised_records")
        aggregate_only = {p.slug for p in DEFAULT_PURPOSES if not p.record_level}
        if agreement.purpose in aggregate_only:
            problems.append(
                f"level: purpose {agreement.purpose!r} allows aggregates only, "
                "not pseudonymised_records"
            )
    unknown_dims = [d for d in shares.dimensions if not _known_dimension(d)]
    if unknown_dims:
        problems.append(
            f"shares.dimensions: {', '.join(map(repr, unknown_dims))} not a dimension Concord "
            f"knows (known: month, {', '.join(DIMENSIONS)})"
        )
    for index, combination in enumerate(agreement.disclosure.never_cross):
        where = f"disclosure.never_cross[{index}]"
        if len(set(combination)) < 2:  # a "cross" needs two dimensions
            problems.append(f"{where}: name at least two different dimensions")
        unknown = [d for d in combination if d not in shares.dimensions]
        if unknown and shares.dimensions:
            problems.append(f"{where}: {', '.join(unknown)} not among shares.dimensions")
    return problems


def _known_dimension(name: str) -> bool:
    # ``month`` is the calendar month a record was received in: every table can use it.
    return name == "month" or dimension_named(name) is not None


def validate_agreement(
    agreement: Agreement, *, source: str, known_purposes: Collection[str] | None = None
) -> None:
    """Raise one :class:`InputError` listing every cross-field problem, or return."""
    problems = agreement_problems(agreement, known_purposes=known_purposes)
    if problems:
        raise InputError(
            f"{source}: the agreement has {len(problems)} problem(s)", details=problems
        )


def agreement_from_document(
    document: Any, *, source: str, known_purposes: Collection[str] | None = None
) -> Agreement:
    """Validate a parsed document (a dict) into an :class:`Agreement`."""
    if not isinstance(document, dict):
        raise InputError(f"{source}: an agreement is a YAML mapping with id, version, title, ...")
    try:
        agreement = Agreement.model_validate(document)
    except ValidationError as exc:
        details = describe_validation_error(exc)
        raise InputError(
            f"{source}: the agreement has {len(details)} problem(s)", details=details
        ) from exc
    validate_agreement(agreement, source=source, known_purposes=known_purposes)
    return agreement


def parse_agreement(
    text: str, *, source: str, known_purposes: Collection[str] | None = None
) -> Agreement:
    """Parse and validate an agreement written in YAML."""
    return agreement_from_document(
        parse_yaml(text, source=source), source=source, known_purposes=known_purposes
    )


def dump_agreement(agreement: Agreement) -> str:
    """The agreement as YAML, keys in the model's order; absent options are left out."""
    body = agreement.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
