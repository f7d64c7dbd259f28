"""The regex behind the term linter: word forms per language and one trie-shaped pattern.

Why a trie: Python's regex engine tries the alternatives of ``a|b|c`` one after another at every
position, so hundreds of terms would cost hundreds of attempts per character. Factoring shared
prefixes (``child(?:ren|...)`` then ``(?:p(?:orn...|rostitut...)|...)``) leaves one path to
follow per character, and a pattern that begins with a plain choice of characters lets the
engine skip ahead at C speed. The whole-word checks are part of the pattern, so backtracking
can fall back from a longer term that is glued to a letter to a shorter one that is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Scripts written without spaces between words: terms in them match as substrings.
NOSPACE = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f"
)
NOSPACE_RE = re.compile(f"[{NOSPACE}]")
#: A letter or digit that glues onto a word (so it is no boundary); ``_`` and no-space scripts
#: are excluded.
WORD = f"[^\\W_{NOSPACE}]"
#: After a term's first character: the character before that one is no letter/digit.
NOT_AFTER_WORD = f"(?<!{WORD}[\\s\\S])"
SEP = r"(?:[\s\-_/\u2010-\u2015]+|\.)"
SEP_RE = re.compile(SEP)
APOSTROPHES = "'\u2019\u02bc"
APOSTROPHE_RE = re.compile(f"[{APOSTROPHES}]")
_EN_IRREGULAR = {"child": "children", "man": "men", "woman": "women", "person": "people"}


def word_forms(word: str, lang: str) -> list[str]:
    """Folded spellings that count as the folded ``word`` in ``lang``, base form first."""
    if NOSPACE_RE.search(word):
        return [word]
    forms = [word]
    if lang == "en":
        forms += [word + "s", word + "es", word + "'s"]
        if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
            forms.append(word[:-1] + "ies")
        if word in _EN_IRREGULAR:
            forms += [_EN_IRREGULAR[word], _EN_IRREGULAR[word] + "'s"]
    elif lang == "fr":
        forms += [word + "s", word + "x", word + "e", word + "es"]
        if word.endswith("al"):
            forms.append(word[:-2] + "aux")
    elif lang == "es":
        forms += [word + "s", word + "es"]
        if word.endswith("z"):
            forms.append(word[:-1] + "ces")
    return list(dict.fromkeys(forms))


def literal(text: str) -> str:
    """Regex for a folded literal; any apostrophe matches any other (' ’ ʼ)."""
    return "".join(f"[{APOSTROPHES}]" if c in APOSTROPHES else re.escape(c) for c in text)


@dataclass
class _WordNode:
    """State after some words of some terms: which words may follow, and whether a term ends."""

    children: dict[tuple[str, ...], _WordNode] = field(default_factory=dict)
    ends: bool = False
    end_needs_boundary: bool = True


def compile_terms(
    terms: Iterable[tuple[Sequence[str], Sequence[Iterable[str]]]],
) -> re.Pattern[str] | None:
    """One regex matching any term, given as (folded words, accepted forms of each word).

    ``None`` when there are no terms (an empty alternation would match everywhere).
    """
    root = _WordNode()
    for words, word_forms_ in terms:
        node = root
        for word, lang_forms in zip(words, word_forms_, strict=True):
            forms = sorted(lang_forms, key=lambda f: (f != word, f))
            node = node.children.setdefault(tuple(forms), _WordNode())
        node.ends = True
        node.end_needs_boundary = not NOSPACE_RE.match(words[-1][-1])
    if not root.children:
        return None
    # The whole-word check before a term sits *after* its first character: a pattern that
    # starts with a plain choice of characters lets the regex engine skip ahead at C speed.
    return re.compile(_words_regex(root.children, first=True))


def _after_regex(node: _WordNode) -> str:
    """What may follow a word: a separator and a next word, and/or the end of a term."""
    options = []
    if node.children:
        options.append(SEP + _words_regex(node.children))
    if node.ends:
        options.append(f"(?!{WORD})" if node.end_needs_boundary else "")
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def _words_regex(children: dict[tuple[str, ...], _WordNode], *, first: bool = False) -> str:
    """Alternatives for the next word, as a character trie over the words' common stems."""
    trie: dict[str, Any] = {}
    for forms, child in children.items():
        stem = _common_prefix(forms)
        node = trie
        for char in stem:
            node = node.setdefault(char, {})
        suffixes = sorted((f[len(stem) :] for f in forms), key=lambda s: (-len(s), s))
        suffix_re = "" if suffixes == [""] else "(?:" + "|".join(map(literal, suffixes)) + ")"
        node.setdefault("", []).append(suffix_re + _after_regex(child))
    return _trie_regex(trie, first=first)


def _common_prefix(words: Iterable[str]) -> str:
    """Longest string every word starts with (the stem the trie branches on)."""
    ordered = sorted(words)
    first, last = ordered[0], ordered[-1]
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), None)
    return first[: min(len(first), len(last)) if size is None else size]


def _trie_regex(node: dict[str, Any], *, first: bool = False) -> str:
    """Regex for a character trie; ``first`` adds the start-of-word check after the first char."""

    def start_check(char: str) -> str:
        return NOT_AFTER_WORD if first and not NOSPACE_RE.match(char) else ""

    options = [
        literal(char) + start_check(char) + _trie_regex(child)
        for char, child in node.items()
        if char
    ]
    options += node.get("", [])  # words ending here come last: longer words are tried first
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
