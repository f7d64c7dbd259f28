"""The harmonised record model: which fields a record has and what each may hold."""

from concord.records.fields import (
    CASE_STATUSES,
    FIELDS,
    LIST_FIELDS,
    SCALAR_FIELDS,
    FieldKind,
    RecordField,
    field_named,
)

__all__ = [
    "CASE_STATUSES",
    "FIELDS",
    "LIST_FIELDS",
    "SCALAR_FIELDS",
    "FieldKind",
    "RecordField",
    "field_named",
]
