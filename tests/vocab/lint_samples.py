"""A small hand-made vocabulary for the term linter tests.

Why not only the shipped one: the tests must say exactly which terms exist (so "no false hit"
properties are provable) and must not change meaning when the shipped vocabulary grows.
"""

from __future__ import annotations

from concord.vocab.model import Concept, DiscouragedTerm, Scheme, Vocabulary

CSAM_REASON = "It implies consent; this is a record of a crime against a child."


def small_vocabulary(*, extra: list[DiscouragedTerm] | None = None) -> Vocabulary:
    """en/fr/es/zh terms for two concepts, plus an unfixable one that exists in en and fr."""
    csam = Concept(
        id="abuse.csam",
        labels={
            "en": "child sexual abuse material",
            "fr": "matériel d'abus sexuels sur enfants",
            "es": "material de abuso sexual infantil",
            "zh": "儿童性虐待材料",
        },
        definition={"en": "Material depicting the sexual abuse of a child."},
        discouraged=[
            DiscouragedTerm(term="child pornography", lang="en", reason=CSAM_REASON),
            DiscouragedTerm(term="child porn", lang="en", reason=CSAM_REASON),
            DiscouragedTerm(term="pédopornographie", lang="fr", reason=CSAM_REASON),
            DiscouragedTerm(term="pornografía infantil", lang="es", reason=CSAM_REASON),
            DiscouragedTerm(term="儿童色情", lang="zh", reason=CSAM_REASON),
            *(extra or []),
        ],
    )
    prostitution = Concept(
        id="abuse.exploitation_in_prostitution",
        labels={
            "en": "sexual exploitation of children in prostitution",
            "fr": "exploitation sexuelle des enfants à des fins de prostitution",
            "es": "explotación sexual infantil en la prostitución",
            "zh": "卖淫活动中的儿童性剥削",
        },
        definition={"en": "Using a child for sexual activities in exchange for something."},
        discouraged=[
            DiscouragedTerm(
                term="child prostitute",
                lang="en",
                reason="A child cannot consent to prostitution.",
                use="child exploited in prostitution",
            ),
            DiscouragedTerm(
                term="enfant prostitué",
                lang="fr",
                reason="Un enfant ne peut pas consentir.",
                use="enfant exploité dans la prostitution",
            ),
            DiscouragedTerm(
                term="enfant prostituée",
                lang="fr",
                reason="Un enfant ne peut pas consentir.",
                use="enfant exploitée dans la prostitution",
            ),
        ],
    )
    offender = Concept(
        id="abuse.offender",
        labels={
            "en": "person who sexually abuses children",
            "fr": "auteur d'abus sexuels sur enfants",
            "es": "agresor sexual de niños",
            "zh": "性侵害儿童者",
        },
        definition={"en": "Someone who sexually abuses a child."},
        discouraged=[
            DiscouragedTerm(term="pedophile", lang="en", reason="A clinical label.", fixable=False),
            DiscouragedTerm(
                term="pédophile", lang="fr", reason="Un terme clinique.", fixable=False
            ),
        ],
    )
    return Vocabulary(
        version="1.0.0",
        languages=["en", "fr", "es", "zh"],
        schemes=[
            Scheme(
                id="abuse",
                prefix="abuse",
                title={"en": "Abuse"},
                concepts=[csam, prostitution, offender],
            )
        ],
    )
