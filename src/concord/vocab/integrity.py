"""Cross-concept integrity rules for a vocabulary.

Each rule returns human-readable problems instead of raising on the first, so
``concord vocab check`` and the loader can list them all. The rules are the promises other
layers rely on: ids are unique and never deleted (deprecated instead), every discouraged term
has a replacement, the broader/narrower graph has no cycles, ICCS codes are well formed.
"""

from __future__ import annotations

from concord.vocab.model import ICCS_RE, SHIPPED_LANGUAGES, Vocabulary


def check(vocabulary: Vocabulary) -> list[str]:
    """Every integrity problem in ``vocabulary``; an empty list means it is sound."""
    return [
        *_unique_ids(vocabulary),
        *_ids_match_scheme(vocabulary),
        *_labels_and_definitions(vocabulary),
        *_links(vocabulary),
        *_no_cycles(vocabulary),
        *_discouraged_terms(vocabulary),
        *_iccs(vocabulary),
        *_changelog(vocabulary),
    ]


def _unique_ids(vocabulary: Vocabulary) -> list[str]:
    problems: list[str] = []
    seen_schemes: set[str] = set()
    seen: set[str] = set()
    for scheme in vocabulary.schemes:
        if scheme.id in seen_schemes:
            problems.append(f"scheme {scheme.id!r} is defined twice")
        seen_schemes.add(scheme.id)
        for concept in scheme.concepts:
            if concept.id in seen:
                problems.append(f"concept id {concept.id!r} is used twice")
            seen.add(concept.id)
    return problems


def _ids_match_scheme(vocabulary: Vocabulary) -> list[str]:
    return [
        f"{concept.id}: id must start with its scheme's prefix '{scheme.prefix}.'"
        for scheme, concept in vocabulary.concepts()
        if not concept.id.startswith(scheme.prefix + ".")
    ]


def _labels_and_definitions(vocabulary: Vocabulary) -> list[str]:
    problems: list[str] = []
    for scheme, concept in vocabulary.concepts():
        if not concept.labels.get("en", "").strip():
            problems.append(f"{concept.id}: has no English preferred label")
        if not concept.definition.get("en", "").strip():
            problems.append(f"{concept.id}: has no English definition")
        missing = [lang for lang in vocabulary.languages if not concept.labels.get(lang)]
        if missing:
            problems.append(f"{concept.id}: no preferred label in {', '.join(missing)}")
        if "en" not in scheme.title:
            problems.append(f"scheme {scheme.id}: has no English title")
    unknown_langs = set(vocabulary.languages) - set(SHIPPED_LANGUAGES)
    if "en" not in vocabulary.languages:
        problems.append("the vocabulary must list English ('en') among its languages")
    if unknown_langs:
        problems.append(f"languages {sorted(unknown_langs)} have no linter inflection rules yet")
    return problems


def _links(vocabulary: Vocabulary) -> list[str]:
    problems: list[str] = []
    for scheme, concept in vocabulary.concepts():
        for parent in concept.broader:
            parent_scheme = vocabulary.scheme_of(parent)
            if parent_scheme is None:
                problems.append(f"{concept.id}: broader concept {parent!r} does not exist")
            elif parent_scheme.id != scheme.id:
                problems.append(
                    f"{concept.id}: broader concept {parent!r} is in another scheme "
                    f"({parent_scheme.id})"
                )
        if concept.status == "deprecated":
            if not concept.replaced_by:
                problems.append(f"{concept.id}: deprecated concepts must name 'replaced_by'")
            else:
                target = vocabulary.get(concept.replaced_by)
                if target is None:
                    problems.append(
                        f"{concept.id}: replaced_by {concept.replaced_by!r} does not exist"
                    )
                elif target.status == "deprecated":
                    problems.append(
                        f"{concept.id}: replaced_by {concept.replaced_by!r} is itself deprecated"
                    )
        elif concept.replaced_by:
            problems.append(f"{concept.id}: only deprecated concepts may have 'replaced_by'")
    return problems


def _no_cycles(vocabulary: Vocabulary) -> list[str]:
    """Depth-first search over broader links; report each cycle once by its members."""
    graph = {c.id: list(c.broader) for _, c in vocabulary.concepts()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    problems: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for parent in graph.get(node, []):
            if state.get(parent) == 1:
                cycle = [*path[path.index(parent) :], parent]
                problems.append("broader/narrower cycle: " + " -> ".join(cycle))
            elif parent in graph and state.get(parent) is None:
                visit(parent, path)
        path.pop()
        state[node] = 2

    for node in graph:
        if state.get(node) is None:
            visit(node, [])
    return problems


def _discouraged_terms(vocabulary: Vocabulary) -> list[str]:
    problems: list[str] = []
    for _, concept in vocabulary.concepts():
        for term in concept.discouraged:
            if term.lang not in vocabulary.languages:
                problems.append(
                    f"{concept.id}: discouraged term {term.term!r} is in unshipped "
                    f"language {term.lang!r}"
                )
            if not concept.replacement_for(term):
                problems.append(
                    f"{concept.id}: discouraged term {term.term!r} has no replacement "
                    f"(add 'use' or a {term.lang} label)"
                )
    return problems


def _iccs(vocabulary: Vocabulary) -> list[str]:
    return [
        f"{concept.id}: ICCS code {code!r} is not 2, 4, 5 or 6 digits"
        for _, concept in vocabulary.concepts()
        for code in concept.iccs
        if not ICCS_RE.match(code)
    ]


def _changelog(vocabulary: Vocabulary) -> list[str]:
    versions = [entry.version for entry in vocabulary.changelog]
    if vocabulary.version not in versions:
        return [f"the changelog has no entry for version {vocabulary.version}"]
    return []
