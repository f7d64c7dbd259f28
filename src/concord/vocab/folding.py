"""Folded text with a map back to the original: how the term linter reports exact columns.

Why a separate view of the text: the linter matches over the *folded* form
(:func:`concord.vocab.text.fold_char`: case-folded, accents dropped) so that "PÉDOPORNOGRAPHIE",
"pe\u0301dopornographie" and "pedopornographie" are one spelling. Folding changes lengths
("ß" -> "ss", "e" + U+0301 -> "e", Hangul syllables -> jamo), so a folded position is not an
original position. :class:`FoldedText` keeps the few places where the lengths diverge and maps
positions both ways with a binary search, instead of one integer per character: documents are
mostly ASCII, and a 200 MB file must not cost gigabytes of offsets.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from concord.vocab.text import fold_char

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
#: fold_char per distinct character; unicodedata is the slow part, and texts reuse few characters.
_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_SIZE = 1 << 16


def fold_cached(char: str) -> str:
    """:func:`fold_char`, remembered per character."""
    folded = _FOLD_CACHE.get(char)
    if folded is None:
        if len(_FOLD_CACHE) >= _FOLD_CACHE_SIZE:  # a text using every script; start over
            _FOLD_CACHE.clear()
        folded = _FOLD_CACHE[char] = fold_char(char)
    return folded


class FoldedText:
    """``text`` folded character by character, with exact position maps in both directions.

    Invariants: every original character contributes ``fold_char(char)`` to :attr:`folded`, in
    order. A folded position *j* "belongs" to the original character that produced
    ``folded[j]``; characters that fold to nothing (combining marks) belong to no folded position,
    so a match ending before one extends over it (the accent stays with its letter).
    """

    __slots__ = ("_bp_folded", "_bp_orig", "_exp_len", "_exp_start", "folded", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        pieces: list[str] = []
        # Breakpoints: from folded position _bp_folded[k] on, orig = _bp_orig[k] + offset.
        self._bp_folded = [0]
        self._bp_orig = [0]
        # Expansions (one character folding to several): positions strictly inside one are not
        # the start of any original character, so a match may not begin or end there.
        self._exp_start: list[int] = []
        self._exp_len: list[int] = []
        pos = 0  # folded length so far
        last = 0
        for run in _NON_ASCII_RUN.finditer(text):
            ascii_part = text[last : run.start()]
            pieces.append(ascii_part.lower())  # ASCII folds one-to-one: str.lower is fold_char
            pos += len(ascii_part)
            for index in range(run.start(), run.end()):
                out = fold_cached(text[index])
                pieces.append(out)
                if len(out) != 1:
                    if len(out) > 1:
                        self._exp_start.append(pos)
                        self._exp_len.append(len(out))
                    pos += len(out)
                    self._bp_folded.append(pos)
                    self._bp_orig.append(index + 1)
                else:
                    pos += 1
            last = run.end()
        pieces.append(text[last:].lower())
        self.folded = "".join(pieces)

    def to_original(self, position: int) -> int:
        """Original index of the character that produced ``folded[position]`` (or ``len(text)``).

        Used for both ends of a match: for an end (exclusive) this lands after any combining
        marks that follow the match's last letter, so an edit replaces "é" whole.
        """
        k = bisect_right(self._bp_folded, position) - 1
        return self._bp_orig[k] + (position - self._bp_folded[k])

    def to_folded(self, index: int) -> int:
        """Folded position where the original character at ``index`` starts."""
        k = bisect_right(self._bp_orig, index) - 1
        return self._bp_folded[k] + (index - self._bp_orig[k])

    def is_boundary(self, position: int) -> bool:
        """Whether ``position`` falls between the foldings of two original characters."""
        k = bisect_right(self._exp_start, position) - 1
        if k < 0:
            return True
        start = self._exp_start[k]
        return position == start or position >= start + self._exp_len[k]
