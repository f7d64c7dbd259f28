"""SKOS/Turtle export: lossless round trip, proper SKOS structure, clear errors on bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from concord.errors import ConcordError, MalformedFileError, VocabularyError
from concord.vocab.export_skos import (
    CONCORD,
    concept_uri,
    from_skos_graph,
    from_turtle,
    scheme_uri,
    to_skos_graph,
    to_turtle,
)
from concord.vocab.integrity import check
from concord.vocab.model import Concept, Scheme, Vocabulary
from concord.vocab.skos_terms import VOCABULARY_URI
from tests.vocab.export_samples import sample_vocabulary, vocabularies

ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_sample_round_trip_is_exact() -> None:
    vocabulary = sample_vocabulary()
    text = to_turtle(vocabulary)
    assert from_turtle(text) == vocabulary


@ROUND_TRIP
@given(vocabularies())
def test_generated_vocabularies_round_trip(vocabulary: Vocabulary) -> None:
    assert check(vocabulary) == []  # the strategy itself only draws valid vocabularies
    text = to_turtle(vocabulary)
    back = from_turtle(text)
    assert back == vocabulary
    assert to_turtle(back) == text  # equal vocabularies give byte-identical Turtle


def test_shipped_vocabulary_round_trips(vocabulary: Vocabulary) -> None:
    text = to_turtle(vocabulary)
    assert from_turtle(text) == vocabulary
    assert to_turtle(vocabulary) == text


def test_graph_uses_skos_properly() -> None:
    graph = to_skos_graph(sample_vocabulary())
    scheme = scheme_uri("abuse_type")
    csam, generated = concept_uri("abuse.csam"), concept_uri("abuse.csam.generated")
    assert str(scheme) == "https://w3id.org/concord/vocab/scheme/abuse_type"
    assert str(csam) == "https://w3id.org/concord/vocab/concept/abuse.csam"
    assert (VOCABULARY_URI, OWL.versionInfo, Literal("1.2.3")) in graph
    assert (scheme, RDF.type, SKOS.ConceptScheme) in graph
    assert (scheme, DCTERMS.title, Literal("虐待类型", lang="zh")) in graph
    assert (scheme, DCTERMS.title, Literal("Type d'abus", lang="fr")) in graph
    assert (csam, RDF.type, SKOS.Concept) in graph
    assert (csam, SKOS.inScheme, scheme) in graph
    assert (csam, SKOS.prefLabel, Literal("儿童性虐待材料", lang="zh")) in graph
    assert (csam, SKOS.altLabel, Literal('abuse "material"', lang="en")) in graph
    assert (csam, SKOS.definition, Literal("描述……", lang="zh")) in graph
    # Only concepts without broader are top concepts; narrower is derived from broader.
    assert (csam, SKOS.topConceptOf, scheme) in graph
    assert (scheme, SKOS.hasTopConcept, csam) in graph
    assert (generated, SKOS.topConceptOf, scheme) not in graph
    assert (generated, SKOS.broader, csam) in graph
    assert (csam, SKOS.narrower, generated) in graph
    # ICCS codes are typed notations; the plain notation stays untyped.
    assert (csam, SKOS.notation, Literal("030101", datatype=CONCORD.ICCS)) in graph
    assert (csam, SKOS.notation, Literal("C-1")) in graph
    # Discouraged terms: hidden labels for generic tools, blank nodes with the details.
    assert (csam, SKOS.hiddenLabel, Literal("pédopornographie", lang="fr")) in graph
    terms = list(graph.subjects(RDF.type, CONCORD.DiscouragedTerm))
    assert len(terms) == 3
    assert (None, CONCORD.fixable, Literal(False)) in graph
    assert (None, CONCORD.use, Literal("matériel d'abus sexuel", lang="fr")) in graph
    assert (
        csam,
        SKOS.scopeNote,
        Literal('Scope: "all" media,\r\nincluding video \\ stills', lang="en"),
    ) in graph


def test_deprecated_concept_is_marked_and_points_at_its_replacement() -> None:
    graph = to_skos_graph(sample_vocabulary())
    old = concept_uri("abuse.old_term")
    assert (old, OWL.deprecated, Literal(True)) in graph
    assert (old, DCTERMS.isReplacedBy, concept_uri("abuse.csam")) in graph
    assert (concept_uri("abuse.csam"), OWL.deprecated, None) not in graph
    back = from_turtle(to_turtle(sample_vocabulary())).get("abuse.old_term")
    assert back is not None
    assert (back.status, back.replaced_by) == ("deprecated", "abuse.csam")


def test_turtle_parses_as_plain_rdf_with_narrower() -> None:
    graph = Graph().parse(data=to_turtle(sample_vocabulary()), format="turtle")
    narrower = set(graph.objects(concept_uri("abuse.csam"), SKOS.narrower))
    assert narrower == {concept_uri("abuse.csam.generated")}


def test_malformed_turtle_raises_malformed_file_error_with_rdflib_message() -> None:
    text = "@prefix ex: <http://e/> .\nex:a ex:p "
    with pytest.raises(
        MalformedFileError, match=r"^vocab\.ttl line 2: not valid Turtle: objectList"
    ):
        from_turtle(text, source="vocab.ttl")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "@prefix ex: <http://e/> . ex:a ex:b ex:c .",
    ],
)
def test_graph_without_a_vocabulary_is_a_vocabulary_error(text: str) -> None:
    with pytest.raises(VocabularyError, match="exactly one concord:Vocabulary"):
        from_turtle(text)


def _graph_without(predicate: URIRef) -> Graph:
    graph = to_skos_graph(sample_vocabulary())
    graph.remove((None, predicate, None))
    return graph


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        (OWL.versionInfo, "owl:versionInfo is missing"),
        (CONCORD.prefix, "concord:prefix is missing"),
        (CONCORD.schemes, "no concord:schemes"),
        (SKOS.inScheme, "not skos:inScheme"),
        (SKOS.altLabel, "skos:altLabel: the SKOS triples and the concord: ordered list disagree"),
        (SKOS.broader, "skos:broader: the SKOS triples"),
        (SKOS.hiddenLabel, "hiddenLabel"),
        (RDF.rest, "broken rdf:List"),
    ],
)
def test_graph_missing_required_parts_is_a_vocabulary_error(
    predicate: URIRef, message: str
) -> None:
    with pytest.raises(VocabularyError, match=message):
        from_skos_graph(_graph_without(predicate))


def test_labels_missing_fail_validation_and_integrity() -> None:
    graph = _graph_without(SKOS.definition)
    with pytest.raises(VocabularyError, match="integrity problem") as info:
        from_skos_graph(graph)
    assert any("no English definition" in d for d in info.value.details)
    assert from_skos_graph(graph, check_integrity=False).get("abuse.csam") is not None


def test_edits_in_a_skos_tool_come_back() -> None:
    graph = to_skos_graph(sample_vocabulary())
    csam = concept_uri("abuse.csam")
    graph.remove((csam, SKOS.prefLabel, Literal("Child sexual abuse material", lang="en")))
    graph.remove((csam, SKOS.prefLabel, Literal("儿童性虐待材料", lang="zh")))
    graph.add((csam, SKOS.prefLabel, Literal("CSAM (edited)", lang="en")))
    graph.add((csam, SKOS.prefLabel, Literal("儿童性虐待材料（新）", lang="zh")))
    concept = from_skos_graph(graph).get("abuse.csam")
    assert concept is not None
    assert concept.labels["en"] == "CSAM (edited)"
    assert concept.labels["zh"] == "儿童性虐待材料（新）"


def test_two_labels_in_one_language_are_refused() -> None:
    graph = to_skos_graph(sample_vocabulary())
    graph.add((concept_uri("abuse.csam"), SKOS.prefLabel, Literal("Another", lang="en")))
    with pytest.raises(VocabularyError, match="more than one value in language 'en'"):
        from_skos_graph(graph)


def test_language_codes_that_are_not_tags_are_refused_on_export() -> None:
    bad = Vocabulary(
        version="1.0.0",
        languages=["en"],
        schemes=[
            Scheme(
                id="s",
                prefix="s",
                title={"en": "S"},
                concepts=[Concept(id="s.a", labels={"en": "A", "en_US": "A"})],
            )
        ],
    )
    with pytest.raises(VocabularyError, match="not valid language tags") as info:
        to_turtle(bad)
    assert info.value.details == ["en_US"]


_SAMPLE_TURTLE = to_turtle(sample_vocabulary())


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_damaged_turtle_never_crashes(data: st.DataObject) -> None:
    """Replacing a slice of valid Turtle gives a Vocabulary or a ConcordError, never a crash."""
    start = data.draw(st.integers(0, len(_SAMPLE_TURTLE)))
    end = data.draw(st.integers(start, min(len(_SAMPLE_TURTLE), start + 200)))
    insert = data.draw(st.sampled_from(["", '"', "(", ")", "[", "]", ";", ".", "_:x", "@fr"]))
    damaged = _SAMPLE_TURTLE[:start] + insert + _SAMPLE_TURTLE[end:]
    try:
        result = from_turtle(damaged)
    except ConcordError:
        return
    assert isinstance(result, Vocabulary)


def test_string_left_open_at_the_end_is_malformed() -> None:
    with pytest.raises(MalformedFileError, match="not valid Turtle"):
        from_turtle(_SAMPLE_TURTLE + '"')
