"""Generate the shipped ``country`` concept scheme from ISO 3166-1 (via pycountry).

Usage::

    uv run python scripts/generate_countries.py            # writes the shipped file
    uv run python scripts/generate_countries.py --check    # exit 1 if the file is out of date

Why generated: 249 countries in four languages are too many to keep by hand, and pycountry
carries the ISO names together with the Debian iso-codes translations. The output is
deterministic (sorted by alpha-2, stable key order) so regenerating with the same pycountry
version gives a byte-identical file and a reviewable diff when pycountry changes.

Two codes are added that ISO 3166-1 does not assign but real data contains:
``XK`` (Kosovo, user-assigned) and ``ZZ`` (unknown or unspecified country).
"""

from __future__ import annotations

import argparse
import gettext
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pycountry
import yaml

OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "concord"
    / "vocab"
    / "data"
    / "schemes"
    / "country.yaml"
)

#: Concord language code -> gettext locale in pycountry's iso-codes catalogues. Chinese uses the
#: Simplified (mainland) catalogue, matching the vocabulary's other zh labels.
LOCALES: dict[str, str] = {"fr": "fr", "es": "es", "zh": "zh_CN"}

HEADER = """\
# GENERATED FILE - do not edit by hand.
# Regenerate with:  uv run python scripts/generate_countries.py
# Source: ISO 3166-1 as packaged by pycountry {pycountry_version} (names and iso-codes
# translations), plus the user-assigned codes XK (Kosovo) and ZZ (unknown or unspecified).
# Labels fall back to English where a translation is missing.
"""

SCHEME_META: dict[str, Any] = {
    "id": "country",
    "prefix": "country",
    "title": {"en": "Country", "fr": "Pays", "es": "País", "zh": "国家或地区"},
    "description": {
        "en": (
            "Countries and territories by ISO 3166-1 alpha-2 code (the notation), with the "
            "user-assigned codes XK for Kosovo and ZZ for an unknown or unspecified country."
        )
    },
}

EXTRA_CONCEPTS: list[dict[str, Any]] = [
    {
        "id": "country.xk",
        "labels": {"en": "Kosovo", "fr": "Kosovo", "es": "Kosovo", "zh": "科索沃"},
        "alt_labels": {"en": ["XKX"]},
        "definition": {
            "en": (
                "Kosovo, recorded under the user-assigned code XK (alpha-3 XKX), which many "
                "international bodies use because ISO 3166-1 assigns no code."
            )
        },
        "notation": "XK",
        "note": (
            "XK is a user-assigned code, not part of ISO 3166-1; it is included because it is "
            "found in real partner data. Its inclusion takes no position on status."
        ),
    },
    {
        "id": "country.zz",
        "labels": {
            "en": "Unknown or unspecified country",
            "fr": "Pays inconnu ou non précisé",
            "es": "País desconocido o no especificado",
            "zh": "未知或未指明的国家或地区",
        },
        "alt_labels": {"en": ["unknown country", "no country listed"]},
        "definition": {
            "en": (
                "The country is not known, was not given, or could not be matched to a code, "
                "for example a row that names only a region."
            )
        },
        "notation": "ZZ",
        "note": (
            "ZZ is a user-assigned code conventionally meaning 'unknown'. Crosswalks map "
            "unrecognised or missing country values here explicitly, so none are lost."
        ),
    },
]


def _translators() -> dict[str, gettext.NullTranslations]:
    """One gettext catalogue per non-English language (a NullTranslations if one is missing)."""
    return {
        lang: gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[locale], fallback=True
        )
        for lang, locale in LOCALES.items()
    }


def _country_concept(
    country: Any, translators: dict[str, gettext.NullTranslations]
) -> dict[str, Any]:
    alpha2: str = country.alpha_2
    alpha3: str = country.alpha_3
    name: str = country.name
    official: str | None = getattr(country, "official_name", None)
    common: str | None = getattr(country, "common_name", None)

    labels = {"en": name}
    for lang, translator in translators.items():
        # gettext returns the msgid itself when there is no translation: English fallback.
        labels[lang] = translator.gettext(name)

    alt_labels: dict[str, list[str]] = {}
    alt_en = [alt for alt in (common, official) if alt and alt != name]
    alt_en.append(alpha3)
    alt_labels["en"] = list(dict.fromkeys(alt_en))
    if official and official != name:
        # The translated official name helps crosswalks match partner files in that language.
        for lang, translator in translators.items():
            translated = translator.gettext(official)
            if translated not in (official, labels[lang]):
                alt_labels[lang] = [translated]

    return {
        "id": f"country.{alpha2.lower()}",
        "labels": labels,
        "alt_labels": alt_labels,
        "definition": {
            "en": (
                f"The country or territory with ISO 3166-1 alpha-2 code {alpha2} "
                f"(alpha-3 {alpha3}, numeric {country.numeric})."
            )
        },
        "notation": alpha2,
    }


class _Dumper(yaml.SafeDumper):
    """Safe dumper that writes lists of strings inline (``[AND, Principality of Andorra]``)."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def build() -> str:
    """The full text of country.yaml."""
    translators = _translators()
    concepts = [_country_concept(c, translators) for c in pycountry.countries]
    concepts.extend(EXTRA_CONCEPTS)
    concepts.sort(key=lambda concept: concept["notation"])

    def dump(data: Any) -> str:
        return yaml.dump(
            data,
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=100,
        )

    parts = [HEADER.format(pycountry_version=version("pycountry")), dump(SCHEME_META)]
    parts.append("concepts:\n")
    for concept in concepts:
        body = dump([concept])
        parts.append("".join(f"  {line}\n" for line in body.splitlines()))
        parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the file is out of date"
    )
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date; run scripts/generate_countries.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({text.count('- id: ')} concepts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
