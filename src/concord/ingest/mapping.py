"""Mapping specs: how one partner's file becomes harmonised records.

A mapping spec is YAML, one per source, versioned by the partner. It names the reader and its
options, the crosswalk that translates the partner's labels, the column behind each record
field with its transform (date format, exact age → band, multi-value split, boolean spellings,
value maps, defaults), and the *identifying* columns (names, contacts, narratives) that are
dropped at ingest and never stored in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from concord.errors import InputError
from concord.records.fields import FieldKind, field_named
from concord.validation import describe_validation_error
from concord.vocab.crosswalk import Crosswalk, read_crosswalk
from concord.yamlio import parse_yaml

ReaderFormat = Literal["csv", "xlsx", "json", "jsonl", "kobo"]
#: The formats with a header row (Kobo exports are CSV or XLSX).
_HEADER_ROW_FORMATS = ("csv", "xlsx", "kobo")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReaderOptions(_Strict):
    format: ReaderFormat
    encoding: str = Field(default="auto", description="'auto' detects UTF-8/BOM/legacy encodings")
    delimiter: str = Field(default="auto", description="'auto' sniffs , ; tab or |")
    sheet: str | int | None = Field(default=None, description="xlsx: sheet name or 0-based index")
    header_row: int = Field(
        default=1,
        ge=1,
        description="csv/xlsx/kobo: the 1-based line or row of the header; the ones above "
        "it (a title, an export date) are skipped",
    )
    records: str | None = Field(
        default=None,
        description="json: dotted key path to the array of records, e.g. 'results'",
    )

    @field_validator("records")
    @classmethod
    def _key_path(cls, value: str | None) -> str | None:
        if value is not None and not all(value.split(".")):
            raise ValueError(
                f"must be a key path such as 'results' or 'data.items' (got {value!r})"
            )
        return value

    @model_validator(mode="after")
    def _options_fit_the_format(self) -> ReaderOptions:
        # An option the reader would ignore is a spec author's mistake (header_row on JSON,
        # records on CSV): refuse it rather than read the file some other way than intended.
        given = self.model_fields_set
        if "header_row" in given and self.format not in _HEADER_ROW_FORMATS:
            raise ValueError(
                f"header_row applies to formats {', '.join(_HEADER_ROW_FORMATS)}, "
                f"not {self.format!r}"
            )
        if self.records is not None and self.format != "json":
            raise ValueError(f"records applies to format 'json' only, not {self.format!r}")
        return self


class BooleanSpellings(_Strict):
    true: list[str] = Field(min_length=1)
    false: list[str] = Field(min_length=1)


class FieldMapping(_Strict):
    column: str | None = None
    scheme: str | None = None
    split: str | None = Field(default=None, description="separator of multi-value cells")
    date_format: str | None = Field(default=None, description="strftime format, e.g. %d/%m/%Y")
    exact_age: bool = Field(default=False, description="cell holds an age in years → age band")
    type: Literal["integer"] | None = None
    default: str | int | bool | None = None
    boolean: BooleanSpellings | None = None
    values: dict[str, str] | None = None

    @field_validator("boolean", mode="before")
    @classmethod
    def _yaml_bool_keys(cls, value: Any) -> Any:
        # YAML reads the keys `true:` / `false:` as booleans; accept both spellings.
        if isinstance(value, dict):
            return {str(k).lower(): v for k, v in value.items()}
        return value


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]


class MappingSpec(_Strict):
    source: Slug
    version: int | str
    description: str = ""
    reader: ReaderOptions
    crosswalk: str | None = None
    identifying: list[str] = Field(default_factory=list)
    #: Identifying columns to keep, encrypted, each for a purpose the organisation holds
    #: (``{"Prénom": "case_management"}``); every other identifying column is dropped.
    keep: dict[str, Slug] = Field(default_factory=dict)
    #: The column with the partner's own id of the child (identifying): stored only as a keyed
    #: pseudonym, so the same child is recognised across reports (and consent can be checked).
    subject: str | None = None
    fields: dict[str, FieldMapping]


@dataclass(frozen=True)
class LoadedMapping:
    """A validated spec with its crosswalk, and a digest that identifies this exact version."""

    spec: MappingSpec
    crosswalk: Crosswalk | None
    sha256: str
    path: Path | None


def validate_spec(spec: MappingSpec, crosswalk: Crosswalk | None, *, source: str) -> None:
    """Cross-field rules pydantic cannot see; every problem is listed at once."""
    problems: list[str] = []
    for name, mapping in spec.fields.items():
        problems += [f"fields.{name}: {p}" for p in _field_problems(name, mapping, spec, crosswalk)]
    for column in spec.keep:
        if column not in spec.identifying:
            problems.append(f"keep: {column!r} must also be listed under 'identifying'")
    if spec.subject is not None and spec.subject not in spec.identifying:
        problems.append(f"subject: {spec.subject!r} must also be listed under 'identifying'")
    for required in ("source_record_key", "received_date"):
        if required not in spec.fields:
            problems.append(f"fields: the required field {required!r} is not mapped")
    if problems:
        raise InputError(
            f"{source}: the mapping spec has {len(problems)} problem(s)", details=problems
        )


def _field_problems(
    name: str, mapping: FieldMapping, spec: MappingSpec, crosswalk: Crosswalk | None
) -> list[str]:
    try:
        field = field_named(name)
    except InputError as exc:
        return [exc.message]
    problems: list[str] = []
    if mapping.column is None and mapping.default is None:
        problems.append("needs a 'column' or a 'default'")
    if mapping.column is not None and mapping.column in spec.identifying:
        problems.append(
            f"column {mapping.column!r} is marked identifying and cannot feed a harmonised field"
        )
    coded = field.kind in (FieldKind.CONCEPT, FieldKind.CONCEPTS)
    if coded and mapping.scheme is not None and mapping.scheme != field.scheme:
        problems.append(f"takes codes from scheme {field.scheme!r}, not {mapping.scheme!r}")
    if coded and not mapping.exact_age and crosswalk is None and mapping.values is None:
        problems.append("coded field needs the spec's 'crosswalk'")
    if mapping.exact_age and field.scheme != "age_band":
        problems.append("'exact_age' only applies to age band fields")
    if mapping.split and field.kind is not FieldKind.CONCEPTS:
        problems.append("'split' only applies to multi-value fields")
    if mapping.boolean and field.kind is not FieldKind.BOOLEAN:
        problems.append("'boolean' only applies to yes/no fields")
    if field.kind is FieldKind.BOOLEAN and mapping.column and not mapping.boolean:
        problems.append("yes/no field needs its 'boolean' spellings")
    if field.kind is FieldKind.DATE and mapping.column and not mapping.date_format:
        problems.append("date field needs a 'date_format' such as %Y-%m-%d")
    return problems


def parse_mapping(text: str, *, source: str, base_dir: Path | None = None) -> LoadedMapping:
    """Parse and validate a mapping spec; its crosswalk path is relative to ``base_dir``."""
    document = parse_yaml(text, source=source)
    if not isinstance(document, dict):
        raise InputError(f"{source}: a mapping spec is a YAML mapping with source, reader, fields")
    try:
        spec = MappingSpec.model_validate(document)
    except ValidationError as exc:
        raise InputError(
            f"{source}: the mapping spec does not have the expected shape",
            details=describe_validation_error(exc),
        ) from exc
    crosswalk = None
    if spec.crosswalk:
        crosswalk = read_crosswalk((base_dir or Path.cwd()) / spec.crosswalk)
    validate_spec(spec, crosswalk, source=source)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if crosswalk is not None:
        digest = hashlib.sha256((digest + repr(crosswalk.entries)).encode()).hexdigest()
    return LoadedMapping(spec=spec, crosswalk=crosswalk, sha256=digest, path=None)


def load_mapping(path: Path) -> LoadedMapping:
    """Read a mapping spec file (and the crosswalk it names, relative to it)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such mapping spec") from exc
    except (UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{path}: cannot be read as UTF-8 text") from exc
    loaded = parse_mapping(text, source=str(path), base_dir=path.parent)
    return LoadedMapping(loaded.spec, loaded.crosswalk, loaded.sha256, path)
