"""The term linter: find discouraged terms in text and suggest (or apply) the preferred wording.

How matching works, and why:

* **Folded text.** Text and terms are compared after :func:`concord.vocab.text.fold_char`
  (case-folded, accents dropped), so "PÉDOPORNOGRAPHIE" and "pedopornographie" are the same
  term. :class:`~concord.vocab.folding.FoldedText` maps folded positions back to the original,
  so columns and ``--fix`` edits are exact even after "é" written as e + U+0301, emoji or "ß".
* **Whole words.** A hit must not touch a letter or digit on either side: "childpornographyx"
  is no hit, while ``child_pornography_count`` is (``_`` and ``-`` separate words, as in CSV
  headers and identifiers). Scripts written without spaces (Chinese, Japanese, Thai, ...) match
  as substrings, and their characters also count as a boundary for a Latin term next to them.
* **Separators.** Words of a multi-word term may be joined by any run of whitespace (line
  breaks included), ``-``, ``_``, ``/`` or Unicode dashes, or by one ``.`` not followed by a
  space (``child.pornography`` in a file name) — so "...a child. Pornography..." across a
  sentence end is not a hit.
* **Inflections** (:func:`word_forms`): each word may carry its language's plural/derived
  suffixes — en: -s, -es, -'s, consonant+y -> -ies, child -> children (and man, woman,
  person); fr: -s, -x, -e, -es, -al -> -aux; es: -s, -es, -z -> -ces. Gender and stem changes
  beyond these are listed in the vocabulary as terms of their own ("pedófilo", "pedófila").
  An inflected hit is reported but never auto-fixed: "child prostitutes" needs "children
  exploited in prostitution", which a suffix rule cannot write.
* **Speed.** All terms compile into one regex shaped as a trie (shared prefixes factored out),
  which Python's engine scans in linear time however many terms there are; an alternation of
  hundreds of terms would be tried one by one at every character.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from concord.errors import InputError
from concord.vocab.folding import FoldedText, fold_cached
from concord.vocab.model import Concept, DiscouragedTerm, Vocabulary
from concord.vocab.termpattern import (
    APOSTROPHE_RE,
    NOSPACE_RE,
    SEP_RE,
    compile_terms,
    word_forms,
)
from concord.vocab.text import normalize_label


@dataclass(frozen=True)
class Finding:
    """One discouraged term found in a text.

    ``line``/``column`` are 1-based and count characters (code points) of the original text;
    ``end_line``/``end_column`` point just past the hit, and ``offset``/``end_offset`` are
    0-based indexes into the whole text. ``fix`` is the exact text ``--fix`` writes (the
    replacement in the hit's case and separator style), ``None`` when it will not fix, and then
    ``note`` says why.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    end_offset: int
    text: str
    concept_id: str
    lang: str
    term: str
    replacement: str | None
    reason: str
    fixable: bool
    fix: str | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Entry:
    """One discouraged term prepared for matching."""

    order: int
    concept: Concept
    term: DiscouragedTerm
    words: tuple[str, ...]  # folded base words
    forms: tuple[frozenset[str], ...]  # accepted folded spellings per word
    accent_words: tuple[str, ...]  # case-folded words with accents, to prefer "pédophile" (fr)


#: (term, why it is not fixable, fix) for a hit; the term is None when the hit is no term.
_Described = tuple[_Entry | None, str | None, str | None]
_DESCRIBE_CACHE_SIZE = 4096


def _accent_key(text: str) -> str:
    return APOSTROPHE_RE.sub("'", unicodedata.normalize("NFC", text.casefold()))


class Linter:
    """Compiled matcher for every discouraged term of ``vocabulary`` (optionally some languages).

    Build once and reuse: compiling is the expensive part, linting a text is one regex scan.
    """

    def __init__(self, vocabulary: Vocabulary, languages: Iterable[str] | None = None) -> None:
        wanted = None if languages is None else list(dict.fromkeys(languages))
        unknown = [lang for lang in wanted or [] if lang not in vocabulary.languages]
        if unknown:
            raise InputError(
                f"unknown language(s) {', '.join(unknown)}; the vocabulary has "
                f"{', '.join(vocabulary.languages)}"
            )
        self.languages: tuple[str, ...] = tuple(wanted or vocabulary.languages)
        entries: list[_Entry] = []
        for _, concept in vocabulary.concepts():
            for term in concept.discouraged:
                if term.lang not in self.languages:
                    continue
                words = tuple(w for w in normalize_label(term.term).split(" ") if w)
                if not words:
                    continue
                words = tuple(APOSTROPHE_RE.sub("'", w) for w in words)
                entries.append(
                    _Entry(
                        order=len(entries),
                        concept=concept,
                        term=term,
                        words=words,
                        forms=tuple(frozenset(word_forms(w, term.lang)) for w in words),
                        accent_words=tuple(SEP_RE.split(_accent_key(term.term))),
                    )
                )
        self._entries = entries
        self._by_first_form: dict[str, list[_Entry]] = {}
        for entry in entries:
            for form in entry.forms[0]:
                self._by_first_form.setdefault(form, []).append(entry)
        self._regex = compile_terms((e.words, e.forms) for e in entries)
        # The same few spellings recur thousands of times in a big file: describe each once.
        self._described: dict[tuple[str, str], _Described] = {}

    @property
    def term_count(self) -> int:
        return len(self._entries)

    def lint_text(self, text: str) -> list[Finding]:
        """Every discouraged term in ``text``, in order, with exact lines and columns."""
        folded = FoldedText(text)
        return list(self._findings(folded, [(0, len(folded.folded))]))

    def lint_ranges(self, text: str, ranges: Iterable[tuple[int, int]]) -> list[Finding]:
        """Like :meth:`lint_text`, but a hit must lie inside one ``(start, end)`` range.

        Why: a CSV cell is its own text — "child" ending one cell and "pornography" starting
        the next (a tab or newline apart) is no hit. Ranges are original offsets, in order.
        """
        folded = FoldedText(text)
        spans = [(folded.to_folded(start), folded.to_folded(end)) for start, end in ranges]
        return list(self._findings(folded, spans))

    def fix_text(self, text: str) -> tuple[str, list[Finding]]:
        """``text`` with every fixable hit replaced, and all findings of the *original* text.

        Unfixable hits (context-dependent terms, inflected forms) are left as they are; lint the
        returned text to see what remains.
        """
        findings = self.lint_text(text)
        return apply_fixes(text, findings), findings

    def _findings(self, folded: FoldedText, spans: list[tuple[int, int]]) -> Iterator[Finding]:
        if self._regex is None:
            return
        lines = LineCounter(folded.text)
        for start, end in spans:
            pos = start
            while pos < end:
                match = self._regex.search(folded.folded, pos, end)
                if match is None:
                    break
                finding = self._finding(folded, match.start(), match.end(), lines)
                if finding is None:
                    pos = match.start() + 1
                    continue
                yield finding
                pos = match.end()

    def _finding(
        self, folded: FoldedText, start: int, end: int, lines: LineCounter
    ) -> Finding | None:
        """The finding for a regex hit, or ``None`` when it is not a whole-word hit."""
        if not (folded.is_boundary(start) and folded.is_boundary(end)):
            return None
        text = folded.text
        orig_start, orig_end = folded.to_original(start), folded.to_original(end)
        hit = folded.folded[start:end]
        # The regex checked boundaries on folded text; also check the original, where "⑴"
        # (folding to "(1)") is a digit glued to the word.
        if not NOSPACE_RE.match(hit) and _glued(text, orig_start, -1):
            return None
        if not NOSPACE_RE.match(hit[-1]) and _glued(text, orig_end, 1):
            return None
        matched = text[orig_start:orig_end]
        described = self._described.get((hit, matched))
        if described is None:
            described = self._describe(hit, matched)
            if len(self._described) >= _DESCRIBE_CACHE_SIZE:
                self._described.clear()
            self._described[(hit, matched)] = described
        entry, note, fix = described
        if entry is None:
            return None
        replacement = entry.concept.replacement_for(entry.term)
        line, column = lines.position(orig_start)
        end_line, end_column = lines.position(orig_end)
        return Finding(
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            offset=orig_start,
            end_offset=orig_end,
            text=matched,
            concept_id=entry.concept.id,
            lang=entry.term.lang,
            term=entry.term.term,
            replacement=replacement,
            reason=entry.term.reason,
            fixable=fix is not None,
            fix=fix,
            note=note,
        )

    def _describe(self, hit: str, matched: str) -> _Described:
        """Which term a hit is, why it cannot be fixed (if so), and the fix (if any)."""
        entry = self._identify(hit, matched)
        if entry is None:
            return None, None, None
        replacement = entry.concept.replacement_for(entry.term)
        note = None
        if not entry.term.fixable:
            note = "the right wording depends on context; edit by hand"
        elif replacement is None:
            note = f"no {entry.term.lang} replacement in the vocabulary"
        elif tuple(SEP_RE.split(APOSTROPHE_RE.sub("'", hit))) != entry.words:
            note = "inflected form; edit by hand so the replacement agrees"
        fix = (
            styled(replacement, matched, entry.term.term) if note is None and replacement else None
        )
        return entry, note, fix

    def _identify(self, hit: str, original: str) -> _Entry | None:
        """Which term a hit is: the one spelling most of it as written (accents too), then order."""
        words = SEP_RE.split(APOSTROPHE_RE.sub("'", hit))
        candidates = [
            entry
            for entry in self._by_first_form.get(words[0], [])
            if len(entry.words) == len(words)
            and all(word in forms for word, forms in zip(words, entry.forms, strict=True))
        ]
        if not candidates:
            return None
        accented = SEP_RE.split(_accent_key(original))

        def score(entry: _Entry) -> tuple[int, int]:
            # How much of the hit the term spells as written, accents included: "prostituées"
            # is "prostituée" + s rather than "prostitué" + es; "pédophile" is the French one.
            spelled = sum(
                len(b)
                for a, b in zip(accented, entry.accent_words, strict=False)
                if a.startswith(b)
            )
            return (-spelled, entry.order)

        return min(candidates, key=score)


def apply_fixes(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with each fixable finding's span replaced by its ``fix`` (findings in order)."""
    pieces: list[str] = []
    last = 0
    for finding in findings:
        if finding.fix is None or finding.offset < last:
            continue
        pieces += [text[last : finding.offset], finding.fix]
        last = finding.end_offset
    pieces.append(text[last:])
    return "".join(pieces)


def styled(replacement: str, matched: str, term: str = "") -> str:
    """``replacement`` written in the style of ``matched`` (a hit of ``term``).

    ALL CAPS stays all caps; a capitalised first letter stays capitalised; and words joined by
    one kind of ``_``, ``-`` or ``.`` (``child_pornography_count``) are joined the same way, so
    a fixed CSV header or identifier stays one token — unless the term itself is spelled with
    that joiner ("pseudo-pornography"), which then says nothing about the writer's style.
    """
    separators = set(SEP_RE.findall(matched))
    if len(separators) == 1 and (sep := separators.pop()) in ("_", "-", ".") and sep not in term:
        replacement = sep.join(replacement.split())
    if sum(c.isupper() for c in matched) > 1 and matched.isupper():
        return replacement.upper()
    first = next((c for c in matched if c.isalpha()), "")
    if first.isupper():
        index = next((i for i, c in enumerate(replacement) if c.isalpha()), None)
        if index is not None:
            return replacement[:index] + replacement[index].upper() + replacement[index + 1 :]
    return replacement


def _glued(text: str, index: int, direction: int) -> bool:
    """Whether the original character next to a hit (skipping combining marks) is a letter/digit.

    ``direction`` -1 looks before ``index``; +1 looks at ``index`` (the first one after a hit).
    """
    i = index - 1 if direction < 0 else index
    while 0 <= i < len(text) and direction < 0 and not fold_cached(text[i]):
        i -= 1
    if not 0 <= i < len(text):
        return False
    char = text[i]
    return char.isalnum() and not NOSPACE_RE.match(char)


class LineCounter:
    """Line and column of increasing offsets, counting newlines once (big files, many hits)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1
        self._line_start = 0

    def position(self, offset: int) -> tuple[int, int]:
        if offset < self._offset:  # ranges restart; rare, so recount from the top
            self._offset, self._line, self._line_start = 0, 1, 0
        newlines = self._text.count("\n", self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        return self._line, offset - self._line_start + 1
