"""Small vocabularies for the export tests: one hand-made with tricky content, and a hypothesis
strategy that draws valid ones (they pass :func:`concord.vocab.integrity.check`).

Why tricky content: exports are text formats with their own quoting (Turtle, CSV, JSON), so
quotes, backslashes, newlines, CR, non-Latin scripts and empty optional fields are where a
lossless promise breaks first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from concord.vocab.model import ChangelogEntry, Concept, DiscouragedTerm, Scheme, Vocabulary


def sample_vocabulary() -> Vocabulary:
    """Two schemes (one empty), nesting, a deprecated concept, quotes, newlines, Chinese."""
    csam = Concept(
        id="abuse.csam",
        labels={
            "en": "Child sexual abuse material",
            "fr": "Matériel d'abus sexuel sur enfant",
            "zh": "儿童性虐待材料",
        },
        alt_labels={"en": ["CSAM", "CSAM", 'abuse "material"', "a; b"], "fr": []},
        definition={"en": 'Material "depicting"\nsexual abuse of a child.', "zh": "描述……"},
        iccs=["030101", "0301"],
        notation="C-1",
        discouraged=[
            DiscouragedTerm(term="child pornography", lang="en", reason="It implies consent."),
            DiscouragedTerm(
                term="pédopornographie",
                lang="fr",
                reason='Implies "consent"',
                use="matériel d'abus sexuel",
                fixable=False,
            ),
        ],
        note='Scope: "all" media,\r\nincluding video \\ stills',
    )
    generated = Concept(
        id="abuse.csam.generated",
        labels={"en": "AI-generated CSAM", "fr": "MASE généré", "zh": "生成的"},
        definition={"en": "Made with generative models."},
        broader=["abuse.csam"],
        notation="",
    )
    grooming = Concept(
        id="abuse.grooming",
        labels={"en": "Grooming", "fr": "Pédopiégeage", "zh": "诱骗"},
        definition={"en": "Building trust to abuse."},
        discouraged=[
            DiscouragedTerm(term="seduction", lang="en", reason="Romanticises.", fixable=False)
        ],
    )
    old = Concept(
        id="abuse.old_term",
        labels={"en": "Old term", "fr": "Ancien terme", "zh": "旧术语"},
        definition={"en": "Superseded."},
        status="deprecated",
        replaced_by="abuse.csam",
    )
    return Vocabulary(
        version="1.2.3",
        languages=["en", "fr", "zh"],
        changelog=[
            ChangelogEntry(version="1.2.3", date=date(2024, 5, 1), changes=['Added "x"', "a\nb"]),
            ChangelogEntry(version="1.0.0", date=date(2024, 1, 2), changes=["First."]),
        ],
        schemes=[
            Scheme(
                id="abuse_type",
                prefix="abuse",
                title={"en": "Abuse type", "fr": "Type d'abus", "zh": "虐待类型"},
                description={"en": 'Kinds of "abuse"'},
                concepts=[csam, generated, grooming, old],
            ),
            Scheme(id="empty_scheme", prefix="empty", title={"en": "Empty"}),
        ],
    )


# Fragments that break naive quoting in Turtle, CSV or JSON.
_TRICKY = st.sampled_from(
    [
        *['"', "'", '"""', "\\", "\n", "\r\n", "\r", "\t", " ", ";", ",", "é", "ñ", "儿童"],
        *["🙂", "@en", "^^", "#", ".", "<x>", "_:b", "\\u0041", "\x00", "\x0b", "\u2028"],
    ]
)
_FREE = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=6)
texts = st.lists(st.one_of(_TRICKY, _FREE), max_size=4).map("".join)
nonblank = st.tuples(texts, st.sampled_from(["a", "É", "儿", "Z9"]), texts).map("".join)
nonempty = st.one_of(nonblank, st.sampled_from([" ", "\n", '"']))
_slugs = st.from_regex(r"\A[a-z][a-z0-9_]{0,5}\Z")
_locals = st.from_regex(r"\A[a-z0-9_]{1,5}(\.[a-z0-9_]{1,3})?\Z")
_iccs = st.from_regex(r"\A([0-9]{2}|[0-9]{4}|[0-9]{5}|[0-9]{6})\Z")
#: Label languages beyond the vocabulary's own; mixed case checks tags keep their case.
_EXTRA_LANGS = ["de", "pt-BR"]


def _lang_map(draw: st.DrawFn, langs: list[str], required: list[str]) -> dict[str, str]:
    result = {lang: draw(nonblank) for lang in required}
    for lang in draw(st.lists(st.sampled_from(langs), unique=True, max_size=3)):
        result.setdefault(lang, draw(texts))
    return result


def _concept(
    draw: st.DrawFn, concept_id: str, earlier: list[str], languages: list[str]
) -> dict[str, Any]:
    label_langs = [*languages, *_EXTRA_LANGS]
    alt_langs = draw(st.lists(st.sampled_from(label_langs), unique=True, max_size=2))
    return {
        "id": concept_id,
        "labels": _lang_map(draw, label_langs, languages),
        "alt_labels": {lang: draw(st.lists(texts, max_size=3)) for lang in alt_langs},
        "definition": _lang_map(draw, label_langs, ["en"]),
        "broader": draw(st.lists(st.sampled_from(earlier), max_size=2)) if earlier else [],
        "iccs": draw(st.lists(_iccs, max_size=3)),
        "notation": draw(st.none() | texts),
        "note": draw(st.none() | texts),
        "discouraged": [
            {
                "term": draw(nonempty),
                "lang": draw(st.sampled_from(languages)),
                "reason": draw(nonempty),
                "use": draw(st.none() | texts),
                "fixable": draw(st.booleans()),
            }
            for _ in range(draw(st.integers(0, 2)))
        ],
    }


@st.composite
def vocabularies(draw: st.DrawFn) -> Vocabulary:
    """Valid small vocabularies: 1-3 schemes of 0-4 concepts with every optional field drawn."""
    extra = draw(st.lists(st.sampled_from(["fr", "es", "zh"]), unique=True))
    languages = draw(st.permutations(["en", *extra]))
    count = draw(st.integers(1, 3))
    scheme_ids = draw(st.lists(_slugs, min_size=count, max_size=count, unique=True))
    prefixes = draw(st.lists(_slugs, min_size=count, max_size=count, unique=True))
    schemes: list[dict[str, Any]] = []
    concepts: list[dict[str, Any]] = []
    for scheme_id, prefix in zip(scheme_ids, prefixes, strict=True):
        ids = [f"{prefix}.{x}" for x in draw(st.lists(_locals, max_size=4, unique=True))]
        members = [_concept(draw, cid, ids[:i], languages) for i, cid in enumerate(ids)]
        concepts.extend(members)
        schemes.append(
            {
                "id": scheme_id,
                "prefix": prefix,
                "title": _lang_map(draw, languages, ["en"]),
                "description": _lang_map(draw, languages, []),
                "concepts": members,
            }
        )
    # Deprecate some concepts; each must point at a concept that stays active.
    deprecated = {c["id"] for c in concepts if draw(st.integers(0, 3)) == 0}
    active = [c["id"] for c in concepts if c["id"] not in deprecated]
    for concept in concepts:
        if concept["id"] in deprecated and active:
            concept["status"] = "deprecated"
            concept["replaced_by"] = draw(st.sampled_from(active))
    major, minor, patch = draw(st.tuples(*[st.integers(0, 99)] * 3))
    version = f"{major}.{minor}.{patch}"
    entry = st.fixed_dictionaries(
        {
            "version": st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}\Z"),
            "date": st.dates(),
            "changes": st.lists(texts, min_size=1, max_size=2),
        }
    )
    changelog = draw(st.lists(entry, max_size=2))
    changelog.insert(draw(st.integers(0, len(changelog))), {**draw(entry), "version": version})
    return Vocabulary.model_validate(
        {"version": version, "languages": languages, "schemes": schemes, "changelog": changelog}
    )
