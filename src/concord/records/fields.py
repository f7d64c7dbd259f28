"""The fields of a harmonised record, in one table that ingestion, validation, storage,
quality reports and (later) indicators all read.

Why a table and not a pydantic model per row: rows are validated column-wise (polars) for
speed; what every layer needs is the *description* of each field — its kind, the vocabulary
scheme its codes come from, whether it is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from concord.errors import InputError


class FieldKind(StrEnum):
    KEY = "key"  # the partner's own record key; stored only as a keyed pseudonym
    DATE = "date"
    CONCEPT = "concept"  # one vocabulary concept id
    CONCEPTS = "concepts"  # several concept ids (stored in record_concept)
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT = "text"
    ENUM = "enum"  # a small fixed value set that is not part of the vocabulary


#: Allowed values of ``case_status`` (operational, not a shared concept).
CASE_STATUSES: tuple[str, ...] = ("open", "pending", "in_progress", "closed", "unknown")


@dataclass(frozen=True)
class RecordField:
    name: str
    kind: FieldKind
    description: str
    scheme: str | None = None
    required: bool = False
    values: tuple[str, ...] = ()


FIELDS: tuple[RecordField, ...] = (
    RecordField(
        "source_record_key", FieldKind.KEY, "the partner's own id of the report", required=True
    ),
    RecordField(
        "received_date", FieldKind.DATE, "when the organisation received the report", required=True
    ),
    RecordField("occurred_date", FieldKind.DATE, "when the incident happened, if known"),
    RecordField("country", FieldKind.CONCEPT, "country of the incident or child", "country"),
    RecordField("subnational_area", FieldKind.TEXT, "region or province (never an address)"),
    RecordField("channel", FieldKind.CONCEPT, "how the report arrived", "channel"),
    RecordField("reporter_type", FieldKind.CONCEPT, "who reported", "reporter_type"),
    RecordField("abuse_types", FieldKind.CONCEPTS, "forms of abuse involved", "abuse_type"),
    RecordField(
        "platform_types", FieldKind.CONCEPTS, "kinds of platform involved", "platform_type"
    ),
    RecordField("victim_count", FieldKind.INTEGER, "number of children involved"),
    RecordField("victim_age_band", FieldKind.CONCEPT, "age band of the child", "age_band"),
    RecordField("victim_sex", FieldKind.CONCEPT, "sex of the child", "sex"),
    RecordField(
        "offender_relationship",
        FieldKind.CONCEPT,
        "offender's relation to the child",
        "offender_relationship",
    ),
    RecordField("offender_age_band", FieldKind.CONCEPT, "age band of the offender", "age_band"),
    RecordField(
        "content_category", FieldKind.CONCEPT, "category of reported material", "content_category"
    ),
    RecordField("self_generated", FieldKind.BOOLEAN, "material produced by the child"),
    RecordField("ai_generated", FieldKind.BOOLEAN, "material computer- or AI-generated"),
    RecordField("actions_taken", FieldKind.CONCEPTS, "what the organisation did", "action_taken"),
    RecordField("referral_made", FieldKind.BOOLEAN, "the child was referred to a service"),
    RecordField("case_status", FieldKind.ENUM, "state of the case", values=CASE_STATUSES),
)

#: Fields stored as columns of ``record`` (the key is stored as its pseudonym, ``source_key``).
SCALAR_FIELDS: tuple[str, ...] = tuple(
    f.name for f in FIELDS if f.kind not in (FieldKind.KEY, FieldKind.CONCEPTS)
)
#: Multi-valued coded fields, stored as rows of ``record_concept``.
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind is FieldKind.CONCEPTS)

_BY_NAME = {f.name: f for f in FIELDS}


def field_named(name: str) -> RecordField:
    """The field called ``name``, or an InputError listing the valid names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InputError(
            f"{name!r} is not a field of the harmonised record; valid fields: "
            + ", ".join(_BY_NAME)
        ) from None
