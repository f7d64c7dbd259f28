"""Fictional identifying values: first names, phone numbers, account handles, narratives.

These columns exist so that ingestion can prove it drops or pseudonymises identifying data;
the values themselves identify nobody:

- first names come from a short list of common names per country, so any one of them is
  shared by many thousands of real children and points to none;
- phone numbers use ranges set aside for fiction where a regulator reserves one (France:
  ARCEP's 06 39 98 xx xx; United Kingdom: Ofcom's drama range 07700 900xxx) and otherwise a
  run of zeros no operator assigns;
- narratives are bland template sentences about worrying online contact, with no sexual
  content, no places and no names.
"""

from __future__ import annotations

import itertools
import re
from functools import cache

import numpy as np
import polars as pl

from concord.errors import ConfigurationError

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "FR": ("Léa", "Emma", "Chloé", "Inès", "Manon", "Jade", "Lucas", "Hugo", "Louis", "Nathan",
           "Enzo", "Théo"),
    "ES": ("Lucía", "Sofía", "María", "Martina", "Paula", "Julia", "Hugo", "Mateo", "Martín",
           "Pablo", "Daniel", "Álvaro"),
    "GB": ("Olivia", "Amelia", "Isla", "Ava", "Grace", "Lily", "Oliver", "George", "Harry",
           "Noah", "Jack", "Leo"),
    "KE": ("Faith", "Mercy", "Sharon", "Wanjiru", "Akinyi", "Joy", "Brian", "Kevin", "Dennis",
           "Otieno", "Kamau", "Collins"),
    "MX": ("Sofía", "Valentina", "Regina", "Camila", "Ximena", "Fernanda", "Santiago", "Mateo",
           "Sebastián", "Leonardo", "Emiliano", "Diego"),
    "TH": ("Ploy", "Fah", "Mint", "Praew", "Nam", "Ice", "Beam", "Bank", "Boss", "Tee", "Gun",
           "Pim"),
    "MY": ("美玲", "慧敏", "佳怡", "欣怡", "诗琪", "雅婷", "志强", "俊杰", "家豪", "伟明",
           "子轩", "浩然"),
}  # fmt: skip

#: Phone number patterns; each "#" is a random digit. Fiction ranges or zero-padded ranges.
PHONES: dict[str, str] = {
    "FR": "+33 6 39 98 ## ##",
    "ES": "+34 600 000 ###",
    "GB": "+44 7700 900###",
    "KE": "+254 700 000 ###",
    "MX": "+52 55 0000 ####",
    "TH": "+66 80 000 ####",
    "MY": "+60 12-000 ####",
}

_NARRATIVE_PARTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...],
                                  tuple[str, ...]]] = {
    "en": (
        "{who} reported {what} on {where}.{then}",
        ("Caller", "A parent", "A teacher", "The young person", "An anonymous reporter"),
        ("worrying online contact", "repeated messages from an unknown account",
         "a request to move the chat to another app", "an unsettling message",
         "an account pretending to be another child"),
        ("a gaming platform", "a social network", "a messaging app", "a video site"),
        ("", " Advice given.", " Follow-up call planned.", " Referred for support."),
    ),
    "fr": (
        "{who} a signalé {what} sur {where}.{then}",
        ("L'appelant", "Une mère", "Un enseignant", "Le jeune", "Une personne anonyme"),
        ("un contact en ligne inquiétant", "des messages répétés d'un compte inconnu",
         "une demande de poursuivre la conversation sur une autre application",
         "un message troublant", "un compte qui se fait passer pour un autre enfant"),
        ("une plateforme de jeu", "un réseau social", "une messagerie", "un site de vidéos"),
        ("", " Conseils donnés.", " Rappel prévu.", " Orientation proposée."),
    ),
    "es": (
        "{who} reportó {what} en {where}.{then}",
        ("La persona que llamó", "Una madre", "Un docente", "El adolescente",
         "Una persona anónima"),
        ("un contacto en línea preocupante", "mensajes repetidos de una cuenta desconocida",
         "una petición de seguir la conversación en otra aplicación", "un mensaje inquietante",
         "una cuenta que se hace pasar por otro menor"),
        ("una plataforma de juegos", "una red social", "una aplicación de mensajería",
         "un sitio de videos"),
        ("", " Se brindó orientación.", " Se programó seguimiento.", " Se canalizó a apoyo."),
    ),
    "zh": (
        "{who}报告在{where}上{what}。{then}",
        ("来电者", "一位母亲", "一位老师", "儿童本人", "匿名人士"),
        ("遇到令人担忧的网络接触", "收到陌生账号的反复信息", "被要求转到其他应用聊天",
         "收到令人不安的信息", "遇到冒充其他儿童的账号"),
        ("游戏平台", "社交网站", "聊天应用", "视频网站"),
        ("", "已提供建议。", "已安排回访。", "已转介支持服务。"),
    ),
}  # fmt: skip


@cache
def narratives(language: str) -> tuple[str, ...]:
    """Every template sentence in ``language`` (a few hundred; records pick among them)."""
    if language not in _NARRATIVE_PARTS:
        raise ConfigurationError(f"no synthetic narratives in language {language!r}")
    template, whos, whats, wheres, thens = _NARRATIVE_PARTS[language]
    return tuple(
        template.format(who=who, what=what, where=where, then=then)
        for who, what, where, then in itertools.product(whos, whats, wheres, thens)
    )


def _names(country: str) -> tuple[str, ...]:
    if country not in FIRST_NAMES:
        raise ConfigurationError(f"no synthetic first names for country {country!r}")
    return FIRST_NAMES[country]


def first_names(country: str, n: int, rng: np.random.Generator) -> pl.Series:
    names = pl.Series(_names(country), dtype=pl.String)
    return names.gather(pl.Series(rng.integers(0, len(names), n), dtype=pl.UInt32))


def phones(country: str, n: int, rng: np.random.Generator) -> pl.Series:
    if country not in PHONES:
        raise ConfigurationError(f"no fictional phone range for country {country!r}")
    pattern = PHONES[country]
    digits = pattern.count("#")
    numbers = pl.Series(rng.integers(0, 10**digits, n), dtype=pl.Int64).cast(pl.String)
    numbers = numbers.str.zfill(digits)
    parts: list[pl.Series | str] = []
    used = 0
    for literal, run in re.findall(r"([^#]*)(#*)", pattern):
        if literal:
            parts.append(literal)
        if run:
            parts.append(numbers.str.slice(used, len(run)))
            used += len(run)
    return pl.select(pl.concat_str([pl.lit(p) for p in parts])).to_series()


def handles(country: str, n: int, rng: np.random.Generator) -> pl.Series:
    """Account handles such as ``ploy_0427``: a common name and four digits."""
    ascii_names = [name.lower() for name in _names(country) if name.isascii()] or ["user"]
    names = pl.Series(ascii_names, dtype=pl.String)
    picked = names.gather(pl.Series(rng.integers(0, len(names), n), dtype=pl.UInt32))
    numbers = pl.Series(rng.integers(0, 10_000, n), dtype=pl.Int64).cast(pl.String).str.zfill(4)
    return picked + "_" + numbers


def narrative_texts(language: str, n: int, rng: np.random.Generator) -> pl.Series:
    texts = pl.Series(narratives(language), dtype=pl.String)
    return texts.gather(pl.Series(rng.integers(0, len(texts), n), dtype=pl.UInt32))
