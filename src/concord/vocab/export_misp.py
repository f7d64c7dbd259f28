"""The vocabulary as a MISP taxonomy (the ``machinetag.json`` of github.com/MISP/misp-taxonomies).

Why: hotlines and law enforcement already tag events in MISP. With this taxonomy loaded, an
event tagged ``concord:abuse_type="csam"`` means the same thing in every organisation's MISP as
in Concord. The mapping is: namespace ``concord``; one predicate per concept scheme (its id);
one entry per concept, whose value is the concept id without the scheme prefix (``abuse.csam``
→ ``csam``), so the machine tag is ``concord:<scheme id>="<id after prefix>"``.

Deprecated concepts are **kept and marked**, not dropped: MISP instances already hold events
tagged with them, and MISP shows an unknown tag without its label or meaning. The MISP format has
no deprecation field, so the mark is in the text: ``expanded`` ends with "(deprecated)" and
``description`` starts with the tag to use instead.

MISP's taxonomy version is an integer; it is derived from the semantic version as
``major*10000 + minor*100 + patch`` so that it grows whenever the vocabulary's version does.
"""

from __future__ import annotations

import json
from typing import Any

from concord.errors import VocabularyError
from concord.vocab.model import Concept, Scheme, Vocabulary
from concord.vocab.skos_terms import BASE_URI

NAMESPACE = "concord"
DESCRIPTION = (
    "Concord shared vocabulary for organisations working to end online child sexual "
    "exploitation and abuse (based on the Terminology Guidelines, cross-walked to UNODC ICCS)."
)
EXPANDED = "Concord shared CSEA vocabulary"
#: Each part of the semantic version gets two decimal digits in the integer version.
_PART_LIMIT = 100


def misp_version(version: str) -> int:
    """``1.2.3`` → ``10203``; minor or patch above 99 would collide, so they are refused."""
    major, minor, patch = (int(part) for part in version.split("."))
    if minor >= _PART_LIMIT or patch >= _PART_LIMIT:
        raise VocabularyError(
            f"vocabulary version {version} cannot become a MISP taxonomy version: "
            "minor and patch must stay below 100"
        )
    return major * 10000 + minor * 100 + patch


def tag_value(scheme: Scheme, concept: Concept) -> str:
    """The machine-tag value of ``concept``: its id after the scheme prefix."""
    return concept.id.removeprefix(scheme.prefix + ".")


def machine_tag(vocabulary: Vocabulary, concept_id: str) -> str:
    """The MISP machine tag for a concept, e.g. ``concord:abuse_type="csam"``."""
    scheme = vocabulary.scheme_of(concept_id)
    concept = vocabulary.get(concept_id)
    if scheme is None or concept is None:
        raise VocabularyError(f"no concept {concept_id!r} in vocabulary {vocabulary.version}")
    return f'{NAMESPACE}:{scheme.id}="{tag_value(scheme, concept)}"'


def _entry(vocabulary: Vocabulary, scheme: Scheme, concept: Concept) -> dict[str, str]:
    expanded = concept.label("en")
    description = concept.definition.get("en", "")
    if concept.status == "deprecated":
        expanded += " (deprecated)"
        instead = (
            f"use {machine_tag(vocabulary, concept.replaced_by)} instead"
            if concept.replaced_by and vocabulary.get(concept.replaced_by)
            else "do not use for new tags"
        )
        description = f"Deprecated: {instead}. {description}".strip()
    entry = {"value": tag_value(scheme, concept), "expanded": expanded}
    if description:
        entry["description"] = description
    return entry


def to_misp_taxonomy(vocabulary: Vocabulary) -> dict[str, Any]:
    """The taxonomy as data: one predicate per scheme, one entry per concept."""
    predicates: list[dict[str, str]] = []
    values: list[dict[str, Any]] = []
    for scheme in vocabulary.schemes:
        title = scheme.title.get("en", scheme.id)
        predicates.append(
            {
                "value": scheme.id,
                "expanded": title,
                "description": scheme.description.get("en") or title,
            }
        )
        if scheme.concepts:
            entries = [_entry(vocabulary, scheme, c) for c in scheme.concepts]
            values.append({"predicate": scheme.id, "entry": entries})
    return {
        "namespace": NAMESPACE,
        "description": DESCRIPTION,
        "version": misp_version(vocabulary.version),
        "expanded": EXPANDED,
        "refs": [BASE_URI],
        "predicates": predicates,
        "values": values,
    }


def to_misp_json(vocabulary: Vocabulary) -> str:
    """The taxonomy as ``machinetag.json`` text (indented like the misp-taxonomies repository)."""
    return json.dumps(to_misp_taxonomy(vocabulary), ensure_ascii=False, indent=2) + "\n"
