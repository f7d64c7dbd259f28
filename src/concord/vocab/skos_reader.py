"""Read a SKOS graph written by :mod:`concord.vocab.export_skos` back into model data.

Why the ordered lists win: RDF triples are a set, so only the ``concord:`` ``rdf:List`` values
keep the order and repetitions of our lists. The plain SKOS triples must agree with them; when a
graph was edited in a SKOS tool on one side only, the reader says so instead of dropping the edit.
Derived triples (``skos:narrower``, ``skos:topConceptOf``, ``skos:hasTopConcept``) are ignored.
The result is plain data for :meth:`Vocabulary.model_validate`, which checks the shape.
"""

from __future__ import annotations

from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS
from rdflib.term import Node

from concord.errors import VocabularyError
from concord.vocab.skos_terms import CONCEPT_BASE, CONCORD, CONCORD_TERM, SCHEME_BASE


def read_vocabulary_data(graph: Graph) -> dict[str, Any]:
    """The vocabulary in ``graph`` as plain data; missing or contradictory parts raise."""
    return _GraphReader(graph).vocabulary()


class _GraphReader:
    """Reads a graph written by :func:`concord.vocab.export_skos.to_skos_graph` into plain data."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def _objects(self, subject: Node, predicate: URIRef) -> list[Node]:
        return list(self.graph.objects(subject, predicate))

    def _one(self, subject: Node, predicate: URIRef, what: str) -> Node | None:
        values = self._objects(subject, predicate)
        if len(values) > 1:
            raise VocabularyError(f"{what}: {len(values)} values where at most one is allowed")
        return values[0] if values else None

    def _required(self, subject: Node, predicate: URIRef, what: str) -> Node:
        value = self._one(subject, predicate, what)
        if value is None:
            raise VocabularyError(f"{what} is missing")
        return value

    @staticmethod
    def _text(node: Node, what: str) -> str:
        if not isinstance(node, Literal):
            raise VocabularyError(f"{what} must be a literal, not {node}")
        return str(node)

    @staticmethod
    def _id(node: Node, base: str, what: str) -> str:
        if not isinstance(node, URIRef) or not str(node).startswith(base):
            raise VocabularyError(f"{what}: {node} is not a URI under {base}")
        return str(node)[len(base) :]

    def _list(self, subject: Node, predicate: URIRef, what: str) -> list[Node]:
        """The items of the ``rdf:List`` under ``predicate``; no list reads as an empty one."""
        cell = self._one(subject, predicate, what)
        items: list[Node] = []
        seen: set[Node] = set()
        while cell is not None and cell != RDF.nil:
            if cell in seen:
                raise VocabularyError(f"{what}: the rdf:List loops back on itself")
            seen.add(cell)
            first = self._one(cell, RDF.first, what)
            rest = self._one(cell, RDF.rest, what)
            if first is None or rest is None:
                raise VocabularyError(f"{what}: broken rdf:List (a cell lacks rdf:first/rest)")
            items.append(first)
            cell = rest
        return items

    def _lang_map(self, subject: Node, predicate: URIRef, what: str) -> dict[str, str]:
        result: dict[str, str] = {}
        for node in self._objects(subject, predicate):
            if not isinstance(node, Literal) or not node.language:
                raise VocabularyError(f"{what}: {node!r} has no language tag")
            if node.language in result:
                raise VocabularyError(f"{what}: more than one value in language {node.language!r}")
            result[node.language] = str(node)
        return result

    @staticmethod
    def _agree(what: str, listed: set[Any], declared: set[Any]) -> None:
        if listed != declared:
            raise VocabularyError(
                f"{what}: the SKOS triples and the concord: ordered list disagree; "
                "edit both or neither",
                details=[f"only in the list: {x}" for x in sorted(map(str, listed - declared))]
                + [f"only in SKOS: {x}" for x in sorted(map(str, declared - listed))],
            )

    def vocabulary(self) -> dict[str, Any]:
        nodes = set(self.graph.subjects(RDF.type, CONCORD.Vocabulary))
        if len(nodes) != 1:
            raise VocabularyError(
                f"expected exactly one concord:Vocabulary in the graph, found {len(nodes)}"
            )
        node = nodes.pop()
        what = "the vocabulary"
        if self._one(node, CONCORD.languages, what) is None:
            raise VocabularyError("the vocabulary has no concord:languages list")
        if self._one(node, CONCORD.schemes, what) is None:
            raise VocabularyError("the vocabulary has no concord:schemes list")
        return {
            "version": self._text(self._required(node, OWL.versionInfo, "owl:versionInfo"), what),
            "languages": [self._text(x, what) for x in self._list(node, CONCORD.languages, what)],
            "schemes": [self._scheme(s) for s in self._list(node, CONCORD.schemes, what)],
            "changelog": [
                self._changelog_entry(e) for e in self._list(node, CONCORD.changelog, what)
            ],
        }

    def _changelog_entry(self, node: Node) -> dict[str, Any]:
        what = "changelog entry"
        version = self._required(node, OWL.versionInfo, f"{what} owl:versionInfo")
        return {
            "version": self._text(version, what),
            "date": self._text(self._required(node, DCTERMS.date, f"{what} dct:date"), what),
            "changes": [self._text(c, what) for c in self._list(node, CONCORD.changes, what)],
        }

    def _scheme(self, node: Node) -> dict[str, Any]:
        scheme_id = self._id(node, SCHEME_BASE, "scheme")
        what = f"scheme {scheme_id}"
        if (node, RDF.type, SKOS.ConceptScheme) not in self.graph:
            raise VocabularyError(f"{what} is not a skos:ConceptScheme")
        prefix = self._required(node, CONCORD.prefix, f"{what} concord:prefix")
        return {
            "id": scheme_id,
            "prefix": self._text(prefix, what),
            "title": self._lang_map(node, DCTERMS.title, f"{what} dct:title"),
            "description": self._lang_map(node, DCTERMS.description, f"{what} dct:description"),
            "concepts": [self._concept(c, node) for c in self._list(node, CONCORD.concepts, what)],
        }

    def _concept(self, node: Node, scheme: Node) -> dict[str, Any]:
        concept_id = self._id(node, CONCEPT_BASE, "concept")
        what = concept_id
        if (node, SKOS.inScheme, scheme) not in self.graph:
            raise VocabularyError(f"{what}: listed in {scheme} but not skos:inScheme it")
        data: dict[str, Any] = {
            "id": concept_id,
            "labels": self._lang_map(node, SKOS.prefLabel, f"{what} skos:prefLabel"),
            "definition": self._lang_map(node, SKOS.definition, f"{what} skos:definition"),
            "alt_labels": self._alt_labels(node, what),
            "broader": self._broader(node, what),
            "discouraged": self._discouraged(node, what),
            "status": "active",
        }
        notations = self._objects(node, SKOS.notation)
        iccs = [self._text(c, what) for c in self._list(node, CONCORD.iccs, f"{what} ICCS")]
        typed = [n for n in notations if isinstance(n, Literal) and n.datatype == CONCORD.ICCS]
        self._agree(f"{what} ICCS codes", set(iccs), {str(n) for n in typed})
        data["iccs"] = iccs
        plain = [n for n in notations if n not in typed]
        if len(plain) > 1:
            raise VocabularyError(f"{what}: more than one skos:notation besides ICCS codes")
        if plain:
            data["notation"] = self._text(plain[0], f"{what} skos:notation")
        deprecated = self._one(node, OWL.deprecated, f"{what} owl:deprecated")
        if isinstance(deprecated, Literal) and deprecated.toPython() is True:
            data["status"] = "deprecated"
        replaced_by = self._one(node, DCTERMS.isReplacedBy, f"{what} dct:isReplacedBy")
        if replaced_by is not None:
            data["replaced_by"] = self._id(replaced_by, CONCEPT_BASE, f"{what} dct:isReplacedBy")
        note = self._one(node, SKOS.scopeNote, f"{what} skos:scopeNote")
        if note is not None:
            data["note"] = self._text(note, f"{what} skos:scopeNote")
        return data

    def _alt_labels(self, node: Node, what: str) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        listed: set[tuple[str, str]] = set()
        for group in self._objects(node, CONCORD.altLabels):
            lang = self._text(self._required(group, CONCORD.language, what), what)
            if lang in result:
                raise VocabularyError(f"{what}: two concord:altLabels groups for {lang!r}")
            result[lang] = [self._text(x, what) for x in self._list(group, CONCORD.labels, what)]
            listed.update((lang, text) for text in result[lang])
        declared = {
            (getattr(x, "language", None) or "", str(x)) for x in self._objects(node, SKOS.altLabel)
        }
        self._agree(f"{what} skos:altLabel", listed, declared)
        return result

    def _broader(self, node: Node, what: str) -> list[str]:
        listed = self._list(node, CONCORD.broaderList, f"{what} broader")
        self._agree(f"{what} skos:broader", set(listed), set(self._objects(node, SKOS.broader)))
        return [self._id(p, CONCEPT_BASE, f"{what} skos:broader") for p in listed]

    def _discouraged(self, node: Node, what: str) -> list[dict[str, Any]]:
        terms: list[dict[str, Any]] = []
        for cell in self._list(node, CONCORD.discouraged, f"{what} discouraged terms"):
            term = self._required(cell, CONCORD_TERM, f"{what} discouraged concord:term")
            if not isinstance(term, Literal) or not term.language:
                raise VocabularyError(f"{what}: discouraged term {term} needs a language tag")
            reason = self._required(cell, CONCORD.reason, f"{what} discouraged concord:reason")
            data: dict[str, Any] = {
                "term": str(term),
                "lang": term.language,
                "reason": self._text(reason, what),
            }
            use = self._one(cell, CONCORD.use, f"{what} discouraged concord:use")
            if use is not None:
                data["use"] = self._text(use, what)
            fixable = self._one(cell, CONCORD.fixable, f"{what} discouraged concord:fixable")
            if fixable is not None:
                value = fixable.toPython() if isinstance(fixable, Literal) else None
                if not isinstance(value, bool):
                    raise VocabularyError(f"{what}: concord:fixable must be true or false")
                data["fixable"] = value
            terms.append(data)
        listed = {(t["lang"], t["term"]) for t in terms}
        declared = {
            (getattr(x, "language", None) or "", str(x))
            for x in self._objects(node, SKOS.hiddenLabel)
        }
        self._agree(f"{what} skos:hiddenLabel (discouraged terms)", listed, declared)
        return terms
