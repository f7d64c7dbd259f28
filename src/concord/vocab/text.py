"""Text normalisation shared by the term linter, crosswalks and vocabulary search.

Why one function: "Pédopornographie", "pedopornographie " and "PEDOPORNOGRAPHIE" must compare
equal everywhere in Concord (a crosswalk label, a search box, a linted document), so there is
exactly one definition of "the same text".
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-_‐-―/.,;:·]+")


def fold_char(char: str) -> str:
    """Case-fold one character and drop its accents; may return '' or several characters."""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Case-folded, accent-free form of ``text`` (spacing untouched)."""
    return "".join(fold_char(c) for c in text)


def normalize_label(text: str) -> str:
    """Comparison key for labels: folded, separators collapsed to one space, trimmed.

    >>> normalize_label("  Pédo-Pornographie ")
    'pedo pornographie'
    """
    return _SEPARATORS.sub(" ", fold(text)).strip()
