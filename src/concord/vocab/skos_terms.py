"""The URIs of the SKOS export: where concepts and schemes live, and our own ``concord:`` terms.

Why a module of its own: the Turtle writer, the Turtle reader and the JSON export all name the
same URIs, and a concept's URI is a public promise (partners store it), so it is spelled once.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef

#: Every concept and scheme URI starts here; the vocabulary itself is this URI.
BASE_URI = "https://w3id.org/concord/vocab/"
CONCEPT_BASE = f"{BASE_URI}concept/"
SCHEME_BASE = f"{BASE_URI}scheme/"
VOCABULARY_URI = URIRef(BASE_URI)

#: Our own terms: classes, properties and the ``concord:ICCS`` datatype (not concept URIs).
CONCORD = Namespace("https://w3id.org/concord/ns#")
#: ``Namespace.term`` is a method, so attribute access cannot name ``concord:term``.
CONCORD_TERM = CONCORD["term"]


def concept_uri(concept_id: str) -> URIRef:
    """The stable URI of a concept, e.g. ``https://w3id.org/concord/vocab/concept/abuse.csam``."""
    return URIRef(CONCEPT_BASE + concept_id)


def scheme_uri(scheme_id: str) -> URIRef:
    """The stable URI of a concept scheme, e.g. ``.../vocab/scheme/abuse_type``."""
    return URIRef(SCHEME_BASE + scheme_id)
