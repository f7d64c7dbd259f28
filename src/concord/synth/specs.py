"""Each organisation's mapping spec and crosswalk, written from its profile.

The mapping spec tells ingestion where each harmonised field is in the file and how to read
it; the crosswalk maps every label the organisation uses to a concept id. Both are derived from
the same :class:`~concord.synth.model.Profile` that generated the data, so they describe the
file exactly — except for what is left out on purpose (the unmapped values, recorded in the
manifest).

Why a small hand-written emitter rather than ``yaml.safe_dump``: the files are read and edited by
people, and the flow style of the examples ("``{column: "Pays", scheme: country}``" on one line)
keeps a 20-field spec on one screen. Every string is double-quoted with JSON escaping, which is
valid YAML and keeps values such as "No", "1" or "Sí" from being read as booleans or numbers.
"""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from concord.synth.model import (
    AgeBandField,
    AreaField,
    CountField,
    DateField,
    ExactAgeField,
    Field,
    FlagField,
    KeyField,
    LabelField,
    Profile,
    StatusField,
)
from concord.synth.tables import tables_for, values_of

SPEC_VERSION = 1

#: Harmonised fields in the order the spec lists them.
FIELD_ORDER = (
    "source_record_key",
    "received_date",
    "occurred_date",
    "country",
    "channel",
    "reporter_type",
    "abuse_types",
    "platform_types",
    "victim_count",
    "victim_age_band",
    "victim_sex",
    "offender_relationship",
    "content_category",
    "self_generated",
    "ai_generated",
    "actions_taken",
    "referral_made",
    "case_status",
    "subnational_area",
)


def crosswalk_name(profile: Profile) -> str:
    return f"{profile.slug}.crosswalk.yaml"


def mapping_name(profile: Profile) -> str:
    return f"{profile.slug}.mapping.yaml"


def data_name(profile: Profile) -> str:
    return f"{profile.slug}{profile.reader.suffix}"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


#: Keys written bare; every other key is data (a status label such as "No") and is quoted.
_KEYWORDS = frozenset(
    {
        "column", "scheme", "split", "date_format", "exact_age", "type", "default", "boolean",
        "values", "format", "encoding", "delimiter", "sheet", "code", "label", "target", "note",
    }
)  # fmt: skip


def _key(key: Any) -> str:
    if isinstance(key, bool):  # the spec's boolean: {true: [...], false: [...]}
        return "true" if key else "false"
    return key if key in _KEYWORDS else _scalar(key)


#: Values of these keys are identifiers (``country``, ``abuse.csam``) and are written bare.
_BARE_VALUES = frozenset({"scheme", "format", "encoding", "target", "type"})


def _flow(value: Any, *, bare: bool = False) -> str:
    """A one-line YAML flow value, like the examples: ``{column: "Pays", scheme: country}``."""
    if isinstance(value, dict):
        items = (f"{_key(k)}: {_flow(v, bare=k in _BARE_VALUES)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if bare and isinstance(value, str):
        return value
    return _scalar(value)


@singledispatch
def field_spec(item: Field) -> dict[Any, Any] | None:
    """The ``fields:`` entry of one field (None for columns ingestion does not map)."""
    return None


@field_spec.register
def _(item: KeyField | AreaField) -> dict[Any, Any] | None:
    return {"column": item.column}


@field_spec.register
def _(item: DateField) -> dict[Any, Any] | None:
    return {"column": item.column, "date_format": item.fmt}


@field_spec.register
def _(item: LabelField) -> dict[Any, Any] | None:
    spec: dict[Any, Any] = {"column": item.column, "scheme": item.scheme}
    if item.split is not None:
        spec["split"] = item.split
    return spec


@field_spec.register
def _(item: AgeBandField) -> dict[Any, Any] | None:
    # Without exact_age the value is a label looked up in the crosswalk's age_band scheme.
    return {"column": item.column, "scheme": "age_band"}


@field_spec.register
def _(item: ExactAgeField) -> dict[Any, Any] | None:
    return {"column": item.column, "scheme": "age_band", "exact_age": True}


@field_spec.register
def _(item: CountField) -> dict[Any, Any] | None:
    return {"column": item.column, "type": "integer", "default": 1}


@field_spec.register
def _(item: FlagField) -> dict[Any, Any] | None:
    true = [item.true_text, *item.also_true]
    false = [item.false_text, *item.also_false]
    return {"column": item.column, "boolean": {True: true, False: false}}


@field_spec.register
def _(item: StatusField) -> dict[Any, Any] | None:
    return {"column": item.column, "values": {v.text: v.value for v in item.values}}


def mapping_fields(profile: Profile) -> dict[str, dict[Any, Any]]:
    """Harmonised field → its spec entry, in :data:`FIELD_ORDER`."""
    found: dict[str, dict[Any, Any]] = {}
    for item in profile.fields:
        spec = field_spec(item)
        name = getattr(item, "field", None)
        if spec is not None and isinstance(name, str):
            found[name] = spec
    return {name: found[name] for name in FIELD_ORDER if name in found}


def mapping_spec_yaml(profile: Profile) -> str:
    lines = [
        f"# Mapping spec of {profile.name} ({profile.kind}, {profile.country}): where each",
        "# harmonised field is in its export and how to read it. Synthetic: written by",
        "# `concord synth` with the data it describes; no real organisation or child.",
        f"source: {profile.slug}",
        f"version: {SPEC_VERSION}",
        f"description: {_scalar(profile.description)}",
        f"reader: {_flow(profile.reader.spec())}",
        f"crosswalk: {crosswalk_name(profile)}",
        f"identifying: {_flow(profile.identifying)}",
    ]
    if profile.kept:
        lines.append(f"keep: {_flow(profile.kept)}")
    lines += [
        "fields:",
    ]
    lines += [f"  {name}: {_flow(spec)}" for name, spec in mapping_fields(profile).items()]
    return "\n".join(lines) + "\n"


def unmapped_labels(profile: Profile) -> dict[str, list[str]]:
    """Scheme → values the organisation left unmapped on purpose."""
    result: dict[str, list[str]] = {}
    for table in tables_for(profile).values():
        left = [v.text for v in table.values if v.target is None]
        if left:
            result.setdefault(table.item.scheme, []).extend(left)
    return result


def crosswalk_yaml(profile: Profile) -> str:
    lines = [
        f"# Crosswalk of {profile.name}: every value its export uses, mapped to Concord",
        "# concepts. Synthetic: written by `concord synth`. Entries without a target are left",
        "# unmapped on purpose; records carrying them must be quarantined, never guessed.",
        f"organisation: {profile.slug}",
        f"version: {SPEC_VERSION}",
        f"language: {profile.language}",
        f"description: {_scalar(profile.description)}",
        "mappings:",
    ]
    for item in profile.labelled:
        lines.append(f"  {item.scheme}:")
        for value in values_of(item):
            entry: dict[str, str] = {}
            code = value.crosswalk_code()
            if code is not None:
                entry["code"] = code
            entry["label"] = value.crosswalk_label()
            if value.target is not None:
                entry["target"] = value.target
            else:
                entry["note"] = "left unmapped on purpose (synthetic ground truth)"
            lines.append(f"    - {_flow(entry)}")
    return "\n".join(lines) + "\n"
