"""Polars frames as Frictionless CSV resources: a Table Schema from the dtypes, and back.

Why Frictionless Table Schema: a bundle must be readable by tools other than Concord (a hub
run by another platform, a statistician with the Frictionless tools), and the schema lets the
reader refuse a CSV whose values are not what the sender declared. The writer and the reader
use the same few types; a frame with any other dtype (lists, structs) is not a table a bundle
carries.

An empty CSV field is a missing value (``missingValues: [""]``): polars writes nulls that way,
so an empty *string* also reads back as null, which no published table relies on.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from concord.errors import BundleError, InputError

MISSING_VALUES = [""]
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def _field_type(name: str, dtype: pl.DataType) -> dict[str, Any]:
    if dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        return {"type": "string"}
    if dtype.is_integer():
        return {"type": "integer"}
    if dtype.is_float():
        return {"type": "number"}
    if dtype == pl.Boolean:
        return {"type": "boolean"}
    if dtype == pl.Date:
        return {"type": "date"}
    if isinstance(dtype, pl.Datetime):
        return {"type": "datetime"}
    raise InputError(f"column {name!r} is a {dtype}: a bundle carries plain table columns only")


def table_schema(frame: pl.DataFrame) -> dict[str, Any]:
    """The Table Schema of ``frame``: one field per column, typed from its dtype."""
    fields = [{"name": n, **_field_type(n, t)} for n, t in frame.schema.items()]
    return {"fields": fields, "missingValues": MISSING_VALUES}


def frame_to_csv(frame: pl.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV; datetimes in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    table_schema(frame)  # refuse unsupported columns before writing anything
    moments: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            column = pl.col(name)
            utc = column.dt.convert_time_zone("UTC") if dtype.time_zone else column
            moments.append(utc.dt.strftime(_DATETIME_FORMAT))
    return frame.with_columns(moments).write_csv().encode("utf-8")


def _typed(column: pl.Series, kind: str) -> pl.Series:
    """``column`` (strings) as ``kind``; values that do not parse become null."""
    if kind == "string":
        return column
    if kind == "integer":
        return column.cast(pl.Int64, strict=False)
    if kind == "number":
        return column.cast(pl.Float64, strict=False)
    if kind == "boolean":
        return column.replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
        )
    if kind == "date":
        return column.str.to_date("%Y-%m-%d", strict=False)
    if kind == "datetime":
        return column.str.to_datetime(_DATETIME_FORMAT, time_zone="UTC", strict=False)
    raise BundleError(f"field {column.name!r} has type {kind!r}, which Concord does not read")


def frame_from_csv(data: bytes, schema: Any, *, resource: str) -> pl.DataFrame:
    """Read a CSV resource and check it against its Table Schema; refuse what does not match."""
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields
    ):
        raise BundleError(f"resource {resource!r} has no readable Table Schema")
    names = [str(f["name"]) for f in fields]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"resource {resource!r} is not UTF-8 text") from exc
    try:
        raw = pl.read_csv(
            data, infer_schema=False, null_values=MISSING_VALUES, raise_if_empty=False
        )
    except pl.exceptions.PolarsError as exc:
        raise BundleError(f"resource {resource!r} is not a readable CSV: {exc}") from exc
    if raw.columns != names:
        raise BundleError(
            f"resource {resource!r}: the CSV header ({', '.join(raw.columns)}) does not match "
            f"its schema ({', '.join(names)})"
        )
    columns: list[pl.Series] = []
    for field in fields:
        column = raw[str(field["name"])]
        typed = _typed(column, str(field.get("type", "string")))
        bad = column.is_not_null() & typed.is_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise BundleError(
                f"resource {resource!r}, column {column.name!r}, row {row + 1}: "
                f"{column[row]!r} is not a valid {field.get('type')}"
            )
        columns.append(typed)
    return pl.DataFrame(columns)
