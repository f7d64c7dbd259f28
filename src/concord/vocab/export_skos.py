"""SKOS (Turtle) export of the vocabulary, and its exact inverse.

Why SKOS: it is the standard for thesauri, so partners load our vocabulary into the tools they
already use (Skosmos, VocBench, Protégé, triple stores) without reading our YAML. Why an inverse:
a vocabulary edited or extended in such a tool must come back into Concord without loss, so
``from_turtle(to_turtle(v)) == v`` holds for every vocabulary that can be exported (all of
them whose language codes are valid RDF language tags; others are refused on export).

Two layers live in one graph:

* **Plain SKOS** for generic tools: ``skos:ConceptScheme`` (``dct:title``/``dct:description`` per
  language, ``skos:hasTopConcept``), ``skos:Concept`` (``skos:inScheme``, ``skos:prefLabel``,
  ``skos:altLabel``, ``skos:definition``, ``skos:broader`` *and* the derived ``skos:narrower``,
  ``skos:notation``, ``skos:scopeNote``, ``owl:deprecated`` + ``dct:isReplacedBy``), ICCS codes as
  ``skos:notation`` typed ``concord:ICCS``, discouraged terms also as ``skos:hiddenLabel`` so that
  search in generic tools finds them.
* **concord: properties** for what SKOS cannot say: RDF is a set of triples, but our lists are
  ordered and may repeat, so every list (schemes, concepts, alt labels per language, broader, ICCS
  codes, discouraged terms, changelog) is also written as an ``rdf:List``. Those lists are what
  :func:`from_turtle` reads; it refuses a graph whose SKOS triples disagree with them, so an edit
  made to only one of the two layers is reported instead of silently dropped.

``skos:narrower``, ``skos:topConceptOf`` and ``skos:hasTopConcept`` are derived from ``broader``
and ignored on import, exactly as :class:`~concord.vocab.model.Vocabulary` derives ``narrower``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS
from rdflib.term import Node

from concord.errors import MalformedFileError, VocabularyError
from concord.vocab.loader import vocabulary_from_document
from concord.vocab.model import Concept, Scheme, Vocabulary
from concord.vocab.skos_reader import read_vocabulary_data
from concord.vocab.skos_terms import (
    BASE_URI,
    CONCEPT_BASE,
    CONCORD,
    CONCORD_TERM,
    SCHEME_BASE,
    VOCABULARY_URI,
    concept_uri,
    scheme_uri,
)

__all__ = [
    "BASE_URI",
    "CONCORD",
    "concept_uri",
    "from_skos_graph",
    "from_turtle",
    "scheme_uri",
    "to_skos_graph",
    "to_turtle",
]

#: What an RDF language tag may look like (BCP 47 shape, as rdflib checks it).
_LANG_TAG_RE = re.compile(r"\A[a-zA-Z]+(?:-[a-zA-Z0-9]+)*\Z")


# --------------------------------------------------------------------------- export


class _GraphWriter:
    """Builds the graph; blank nodes are numbered in build order so output is reproducible."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.graph = Graph(bind_namespaces="core")
        for prefix, namespace in (
            ("skos", SKOS),
            ("dct", DCTERMS),
            ("owl", OWL),
            ("concord", CONCORD),
            ("scheme", Namespace(SCHEME_BASE)),
            ("concept", Namespace(CONCEPT_BASE)),
        ):
            self.graph.bind(prefix, namespace)
        self._count = 0

    def _bnode(self) -> BNode:
        self._count += 1
        return BNode(f"n{self._count}")

    def _add(self, subject: Node, predicate: URIRef, obj: Node) -> None:
        self.graph.add((subject, predicate, obj))

    def _list(self, items: Sequence[Node]) -> Node:
        """An ``rdf:List`` of ``items`` (``rdf:nil`` when empty)."""
        head: Node = RDF.nil
        for item in reversed(items):
            cell = self._bnode()
            self._add(cell, RDF.first, item)
            self._add(cell, RDF.rest, head)
            head = cell
        return head

    def _both(
        self, node: Node, skos_predicate: URIRef, list_predicate: URIRef, items: Sequence[Node]
    ) -> None:
        """``items`` as plain SKOS triples (a set) and as an ordered list (omitted when empty)."""
        for item in items:
            self._add(node, skos_predicate, item)
        if items:
            self._add(node, list_predicate, self._list(items))

    def _lang_map(self, subject: Node, predicate: URIRef, values: dict[str, str]) -> None:
        for lang, text in sorted(values.items()):
            self._add(subject, predicate, Literal(text, lang=lang))

    def build(self) -> Graph:
        vocabulary = self.vocabulary
        node = VOCABULARY_URI
        self._add(node, RDF.type, CONCORD.Vocabulary)
        self._add(node, OWL.versionInfo, Literal(vocabulary.version))
        self._add(node, CONCORD.languages, self._list([Literal(x) for x in vocabulary.languages]))
        self._add(node, CONCORD.schemes, self._list([scheme_uri(s.id) for s in vocabulary.schemes]))
        for scheme in vocabulary.schemes:
            self._add(node, DCTERMS.hasPart, scheme_uri(scheme.id))
            self._scheme(scheme)
        if vocabulary.changelog:
            entries: list[Node] = []
            for entry in vocabulary.changelog:
                cell = self._bnode()
                self._add(cell, RDF.type, CONCORD.ChangelogEntry)
                self._add(cell, OWL.versionInfo, Literal(entry.version))
                self._add(cell, DCTERMS.date, Literal(entry.date))
                self._add(cell, CONCORD.changes, self._list([Literal(c) for c in entry.changes]))
                entries.append(cell)
            self._add(node, CONCORD.changelog, self._list(entries))
        return self.graph

    def _scheme(self, scheme: Scheme) -> None:
        node = scheme_uri(scheme.id)
        self._add(node, RDF.type, SKOS.ConceptScheme)
        self._add(node, CONCORD.prefix, Literal(scheme.prefix))
        self._lang_map(node, DCTERMS.title, scheme.title)
        self._lang_map(node, DCTERMS.description, scheme.description)
        if scheme.concepts:
            uris: list[Node] = [concept_uri(c.id) for c in scheme.concepts]
            self._add(node, CONCORD.concepts, self._list(uris))
        for concept in scheme.concepts:
            self._concept(concept, node)

    def _concept(self, concept: Concept, scheme: URIRef) -> None:
        node = concept_uri(concept.id)
        self._add(node, RDF.type, SKOS.Concept)
        self._add(node, SKOS.inScheme, scheme)
        if not concept.broader:
            self._add(node, SKOS.topConceptOf, scheme)
            self._add(scheme, SKOS.hasTopConcept, node)
        self._lang_map(node, SKOS.prefLabel, concept.labels)
        self._lang_map(node, SKOS.definition, concept.definition)
        for lang, alt_labels in sorted(concept.alt_labels.items()):
            group = self._bnode()
            self._add(node, CONCORD.altLabels, group)
            self._add(group, CONCORD.language, Literal(lang))
            literals: list[Node] = [Literal(text, lang=lang) for text in alt_labels]
            self._add(group, CONCORD.labels, self._list(literals))
            for literal in literals:
                self._add(node, SKOS.altLabel, literal)
        self._both(
            node, SKOS.broader, CONCORD.broaderList, [concept_uri(p) for p in concept.broader]
        )
        for child in self.vocabulary.narrower(concept.id):
            self._add(node, SKOS.narrower, concept_uri(child))
        codes = [Literal(code, datatype=CONCORD.ICCS) for code in concept.iccs]
        self._both(node, SKOS.notation, CONCORD.iccs, codes)
        if concept.notation is not None:
            self._add(node, SKOS.notation, Literal(concept.notation))
        if concept.discouraged:
            self._add(node, CONCORD.discouraged, self._list(self._discouraged(concept, node)))
        if concept.status == "deprecated":
            self._add(node, OWL.deprecated, Literal(True))
        if concept.replaced_by is not None:
            self._add(node, DCTERMS.isReplacedBy, concept_uri(concept.replaced_by))
        if concept.note is not None:
            self._add(node, SKOS.scopeNote, Literal(concept.note, lang="en"))

    def _discouraged(self, concept: Concept, node: URIRef) -> list[Node]:
        cells: list[Node] = []
        for term in concept.discouraged:
            cell = self._bnode()
            self._add(cell, RDF.type, CONCORD.DiscouragedTerm)
            self._add(cell, CONCORD_TERM, Literal(term.term, lang=term.lang))
            self._add(cell, CONCORD.reason, Literal(term.reason, lang="en"))
            if term.use is not None:
                self._add(cell, CONCORD.use, Literal(term.use, lang=term.lang))
            self._add(cell, CONCORD.fixable, Literal(term.fixable))
            self._add(node, SKOS.hiddenLabel, Literal(term.term, lang=term.lang))
            cells.append(cell)
        return cells


def _bad_language_tags(vocabulary: Vocabulary) -> list[str]:
    """Language codes that cannot become RDF language tags (and so could not come back)."""
    found: set[str] = set()
    for scheme in vocabulary.schemes:
        found.update(scheme.title, scheme.description)
        for concept in scheme.concepts:
            found.update(concept.labels, concept.definition, concept.alt_labels)
            found.update(term.lang for term in concept.discouraged)
    return sorted(lang for lang in found if not _LANG_TAG_RE.match(lang))


def to_skos_graph(vocabulary: Vocabulary) -> Graph:
    """The vocabulary as an rdflib graph (SKOS plus the concord: properties that make it exact)."""
    bad = _bad_language_tags(vocabulary)
    if bad:
        raise VocabularyError(
            "the vocabulary cannot be exported as SKOS: these language codes are not valid "
            "language tags (use codes such as 'en' or 'zh-Hans')",
            details=bad,
        )
    return _GraphWriter(vocabulary).build()


def to_turtle(vocabulary: Vocabulary) -> str:
    """The vocabulary as Turtle text; the same vocabulary always gives the same text."""
    text: str = to_skos_graph(vocabulary).serialize(format="turtle")
    return text


def from_skos_graph(graph: Graph, *, check_integrity: bool = True) -> Vocabulary:
    """The vocabulary in ``graph``; a graph without the required parts is a VocabularyError.

    ``check_integrity`` applies the same cross-concept rules as loading YAML, because a Turtle
    file edited elsewhere is as much user input as a YAML file.
    """
    data = read_vocabulary_data(graph)
    return vocabulary_from_document(data, source="the SKOS graph", check_integrity=check_integrity)


def from_turtle(
    text: str, *, source: str = "Turtle input", check_integrity: bool = True
) -> Vocabulary:
    """Parse Turtle written by :func:`to_turtle` (or edited since) back into a Vocabulary."""
    graph = Graph()
    try:
        # rdflib warns (rather than fails) on ill-typed literals such as "maybe"^^xsd:boolean;
        # the reader rejects those values itself with a message that names the concept.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph.parse(data=text, format="turtle")
    except SyntaxError as exc:  # rdflib's BadSyntax: say where and why, without its byte dump
        line = getattr(exc, "lines", None)
        where = f"{source} line {line + 1}" if isinstance(line, int) else source
        why = getattr(exc, "_why", None) or str(exc)
        raise MalformedFileError(f"{where}: not valid Turtle: {why}") from exc
    except Exception as exc:
        # rdflib's parser also stops with ValueError (bad language tag), IndexError (a string
        # left open at the end) and others; for the user each means the same: not Turtle.
        raise MalformedFileError(
            f"{source}: not valid Turtle: {type(exc).__name__}: {exc}"
        ) from exc
    return from_skos_graph(graph, check_integrity=check_integrity)
