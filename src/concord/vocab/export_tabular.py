"""JSON and CSV exports of the vocabulary, for programs and for spreadsheets.

Why two shapes: JSON carries the whole model (it validates straight back into a
:class:`~concord.vocab.model.Vocabulary`, see :func:`from_json`), CSV is what an analyst opens in
a spreadsheet to cross-walk their own codes. Both are deterministic — same vocabulary, same
bytes — so exports can be diffed and checked into a partner's repository; that is why no
export timestamp is written. Rows and lists keep the vocabulary's own order (age bands, for one,
are ordered on purpose), never an alphabetical one.

CSV cells that hold several values (ICCS codes, broader ids, alternative labels) join them with
``;``; only labels could contain a ``;`` themselves, and for those the JSON or SKOS export is exact.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from concord.errors import MalformedFileError, VocabularyError
from concord.vocab.loader import vocabulary_from_document
from concord.vocab.model import Vocabulary
from concord.vocab.skos_terms import concept_uri, scheme_uri

#: Identifies the JSON layout, so readers can refuse a future incompatible one.
JSON_FORMAT = "concord-vocabulary"
JSON_FORMAT_VERSION = 1
#: Keys added to the model dump; :func:`from_json` drops them before validating.
_DERIVED_CONCEPT_KEYS = ("uri", "narrower")
_DERIVED_SCHEME_KEYS = ("uri",)
#: Separator inside one CSV cell holding several values.
MULTI_VALUE_SEPARATOR = ";"


def to_json_data(vocabulary: Vocabulary) -> dict[str, Any]:
    """The full model as JSON-ready data, plus each concept's URI and derived ``narrower`` ids."""
    data = vocabulary.model_dump(mode="json")
    for scheme in data["schemes"]:
        scheme["uri"] = str(scheme_uri(scheme["id"]))
        for concept in scheme["concepts"]:
            concept["uri"] = str(concept_uri(concept["id"]))
            concept["narrower"] = vocabulary.narrower(concept["id"])
    return {
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        **data,
    }


def to_json(vocabulary: Vocabulary) -> str:
    """The vocabulary as indented UTF-8 JSON text (non-ASCII kept readable)."""
    return json.dumps(to_json_data(vocabulary), ensure_ascii=False, indent=2) + "\n"


def from_json(text: str, *, source: str = "JSON input", check_integrity: bool = True) -> Vocabulary:
    """Read :func:`to_json` output back; derived keys are dropped, the rest must validate."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFileError(
            f"{source} line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
        raise VocabularyError(
            f"{source}: not a Concord vocabulary export (no format {JSON_FORMAT!r})"
        )
    if data.get("format_version") != JSON_FORMAT_VERSION:
        raise VocabularyError(
            f"{source}: format_version {data.get('format_version')!r} is not supported "
            f"(this Concord reads {JSON_FORMAT_VERSION})"
        )
    body = {k: v for k, v in data.items() if k not in ("format", "format_version")}
    for scheme in _items(body.get("schemes")):
        _drop(scheme, _DERIVED_SCHEME_KEYS)
        for concept in _items(scheme.get("concepts")):
            _drop(concept, _DERIVED_CONCEPT_KEYS)
    return vocabulary_from_document(body, source=source, check_integrity=check_integrity)


def _items(value: object) -> list[dict[str, Any]]:
    """The mappings in a JSON list; anything else is left for validation to report."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _drop(item: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        item.pop(key, None)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    """RFC 4180 CSV (CRLF line ends, quoting only where needed) as one string."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _join(values: list[str]) -> str:
    return MULTI_VALUE_SEPARATOR.join(values)


def concept_columns(vocabulary: Vocabulary) -> list[str]:
    """The header of :func:`to_csv`; label and alt-label columns follow the languages."""
    return [
        "scheme",
        "id",
        "status",
        "replaced_by",
        "notation",
        "iccs",
        "broader",
        *(f"label_{lang}" for lang in vocabulary.languages),
        "definition_en",
        *(f"alt_labels_{lang}" for lang in vocabulary.languages),
        "note",
    ]


def to_csv(vocabulary: Vocabulary) -> str:
    """One row per concept (deprecated ones included, with ``status`` and ``replaced_by``)."""
    rows = [
        [
            scheme.id,
            concept.id,
            concept.status,
            concept.replaced_by or "",
            concept.notation or "",
            _join(concept.iccs),
            _join(concept.broader),
            *(concept.labels.get(lang, "") for lang in vocabulary.languages),
            concept.definition.get("en", ""),
            *(_join(concept.alt_labels.get(lang, [])) for lang in vocabulary.languages),
            concept.note or "",
        ]
        for scheme, concept in vocabulary.concepts()
    ]
    return _csv_text(concept_columns(vocabulary), rows)


#: The header of :func:`to_terms_csv`.
TERM_COLUMNS = ["concept", "lang", "term", "replacement", "fixable", "reason"]


def to_terms_csv(vocabulary: Vocabulary) -> str:
    """One row per discouraged term, with the replacement the linter would suggest.

    ``replacement`` is the term's explicit ``use`` or else the concept's label in the term's
    language — the same rule as :meth:`Concept.replacement_for` — so the sheet shows what a
    reader should actually write.
    """
    rows = [
        [
            concept.id,
            term.lang,
            term.term,
            concept.replacement_for(term) or "",
            "true" if term.fixable else "false",
            term.reason,
        ]
        for _, concept in vocabulary.concepts()
        for term in concept.discouraged
    ]
    return _csv_text(TERM_COLUMNS, rows)
