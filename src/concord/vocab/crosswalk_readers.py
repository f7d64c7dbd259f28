"""The two crosswalk file formats: YAML (hand-written) and CSV (exported from a spreadsheet).

YAML is read through PyYAML's *composer* (nodes with marks) rather than ``safe_load`` for two
reasons: every entry needs its line number, and a scalar's raw text must survive as written —
``code: 010`` is the code "010", not the integer 8, and ``label: No`` is the label "No", not
``False``.
"""

from __future__ import annotations

import csv
import io
from typing import ClassVar

import yaml

from concord.errors import MalformedFileError
from concord.vocab.crosswalk import Crosswalk, CrosswalkReader, Entry, Problems, clean

_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_TOP_KEYS = ("organisation", "version", "language", "description", "mappings")
_ENTRY_KEYS = ("code", "label", "target", "lang", "note")
_KIND = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a yes/no value",
    "tag:yaml.org,2002:timestamp": "a date",
}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _what(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _KIND.get(node.tag, f"a value tagged {node.tag}")


def _compose(text: str, source: str) -> yaml.Node | None:
    """The YAML node tree, with parser errors translated to MalformedFileError with file:line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source} line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise MalformedFileError(
            f"{where}: {exc.problem or exc.context or 'invalid YAML'}"
        ) from exc
    except yaml.reader.ReaderError as exc:  # a control character: no mark, only a position
        line = text[: exc.position].count("\n") + 1
        raise MalformedFileError(
            f"{source} line {line}: contains the control character #x{exc.character:04x}, "
            "which YAML does not allow (is this a binary file?)"
        ) from exc
    except yaml.YAMLError as exc:
        raise MalformedFileError(f"{source}: not valid YAML ({exc})") from exc
    except RecursionError as exc:  # PyYAML's composer recurses once per nesting level
        raise MalformedFileError(f"{source}: nested too deeply to be a crosswalk") from exc


def _pairs(
    node: yaml.MappingNode, allowed: tuple[str, ...] | None, problems: Problems, what: str
) -> dict[str, tuple[int, yaml.Node]]:
    """A mapping node's keys → (key line, value node); odd, duplicate or unknown keys are problems.

    Unknown keys are refused because a typo such as ``taget:`` would otherwise turn a mapped
    entry silently into an unmapped one.
    """
    result: dict[str, tuple[int, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _NULL:
            problems.add(_line(key_node), f"{what} has a key that is not plain text")
            continue
        key = str(key_node.value)
        if key in result:
            problems.add(
                _line(key_node), f"{what} has {key!r} twice (first on line {result[key][0]})"
            )
        elif allowed is not None and key not in allowed:
            problems.add(
                _line(key_node),
                f"{what} has an unknown key {key!r}; expected {', '.join(allowed)}",
            )
        else:
            result[key] = (_line(key_node), value_node)
    return result


def _text(
    node: yaml.Node | None, name: str, problems: Problems, *, strict: bool = False
) -> str | None:
    """A scalar's raw text (``None`` for absent/null); ``strict`` demands a YAML string."""
    if node is None:
        return None
    expected = "a concept id such as 'abuse.csam'" if strict else "text"
    if not isinstance(node, yaml.ScalarNode):
        problems.add(_line(node), f"{name} must be {expected}, not {_what(node)}")
        return None
    if node.tag == _NULL:
        return None
    if strict and node.tag != _STR:
        problems.add(_line(node), f"{name} must be {expected}, not {_what(node)} ({node.value!r})")
        return None
    return clean(str(node.value))


class YamlCrosswalkReader(CrosswalkReader):
    """``organisation``/``version``/``language``/``mappings: {scheme: [entries]}`` YAML."""

    name: ClassVar[str] = "yaml"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml", ".yml")

    def parse(self, text: str, *, source: str, default_organisation: str) -> Crosswalk:
        root = _compose(text, source)
        problems = Problems(source)
        if root is None:
            problems.fail(1, "the file is empty; a crosswalk needs 'organisation' and 'mappings'")
        if not isinstance(root, yaml.MappingNode):
            problems.fail(
                _line(root),
                f"expected a mapping with 'organisation' and 'mappings', found {_what(root)}",
            )
        top = {
            key: node
            for key, (_, node) in _pairs(root, _TOP_KEYS, problems, "the crosswalk").items()
        }
        organisation = _text(top.get("organisation"), "organisation", problems)
        if organisation is None:
            problems.add(
                _line(top.get("organisation", root)),
                "'organisation' is required (a short id of the organisation, e.g. helpline-fr)",
            )
        sections: dict[str, int] = {}
        entries: list[Entry] = []
        mappings = top.get("mappings")
        if mappings is None or (isinstance(mappings, yaml.ScalarNode) and mappings.tag == _NULL):
            problems.add(
                _line(mappings or root),
                "'mappings' is required (scheme ids, each with a list of entries)",
            )
        elif not isinstance(mappings, yaml.MappingNode):
            problems.add(
                _line(mappings),
                f"'mappings' must map scheme ids to lists of entries, not {_what(mappings)}",
            )
        else:
            for scheme_id, (line, section) in _pairs(
                mappings, None, problems, "'mappings'"
            ).items():
                sections[scheme_id] = line
                entries.extend(_section(scheme_id, section, problems))
        language = _text(top.get("language"), "language", problems)
        version = _text(top.get("version"), "version", problems)
        description = _text(top.get("description"), "description", problems)
        problems.raise_if_any()
        return Crosswalk(
            organisation=organisation or default_organisation,
            source=source,
            entries=tuple(entries),
            sections=sections,
            version=version,
            language=language,
            description=description,
        )


def _section(scheme_id: str, section: yaml.Node, problems: Problems) -> list[Entry]:
    if isinstance(section, yaml.ScalarNode) and section.tag == _NULL:
        return []  # an empty section is a placeholder, not an error
    if not isinstance(section, yaml.SequenceNode):
        problems.add(
            _line(section),
            f"scheme {scheme_id!r} must hold a list of entries "
            f"(- {{code: ..., label: ..., target: ...}}), not {_what(section)}",
        )
        return []
    entries: list[Entry] = []
    for item in section.value:
        line = _line(item)
        if not isinstance(item, yaml.MappingNode):
            problems.add(
                line, f"an entry must be a mapping with code/label/target, not {_what(item)}"
            )
            continue
        keys = {
            k: node for k, (_, node) in _pairs(item, _ENTRY_KEYS, problems, "the entry").items()
        }
        code = _text(keys.get("code"), "code", problems)
        label = _text(keys.get("label"), "label", problems)
        target = _text(keys.get("target"), "target", problems, strict=True)
        if code is None and label is None:
            problems.add(line, "the entry has neither a code nor a label")
            continue
        entries.append(
            Entry(
                scheme=scheme_id,
                line=line,
                code=code,
                label=label,
                target=target,
                lang=_text(keys.get("lang"), "lang", problems),
                note=_text(keys.get("note"), "note", problems),
            )
        )
    return entries


_CSV_COLUMNS = ("scheme", "code", "label", "target", "lang", "note")
#: Spreadsheets in French- and Spanish-speaking countries export with ';' by default.
_DELIMITERS = (",", ";", "\t")


#: Longest cell a crosswalk CSV may hold (labels and codes are short; this is a wrong file).
MAX_CELL_CHARS = 10_000


class CsvCrosswalkReader(CrosswalkReader):
    """A header row (any order) naming ``scheme``, ``target`` and ``code`` and/or ``label``."""

    name: ClassVar[str] = "csv"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)

    def parse(self, text: str, *, source: str, default_organisation: str) -> Crosswalk:
        text = text.removeprefix("\ufeff")
        problems = Problems(source)
        first_line = text.split("\n", 1)[0]
        if not first_line.strip():
            problems.fail(
                1, "the first line must be a header naming the columns scheme, code, label, target"
            )
        delimiter = max(_DELIMITERS, key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = [h.strip().casefold() for h in next(reader)]
            columns = self._columns(header, problems)
            entries: list[Entry] = []
            sections: dict[str, int] = {}
            previous = reader.line_num
            for row in reader:
                line, previous = previous + 1, reader.line_num
                # Our own limit, not the csv module's process-wide field_size_limit (which the
                # ingest readers raise for long narratives): a crosswalk cell is a short label.
                longest = max((len(cell) for cell in row), default=0)
                if longest > MAX_CELL_CHARS:
                    raise MalformedFileError(
                        f"{source} line {line}: a cell is {longest:,} characters long; "
                        f"crosswalk cells are labels of at most {MAX_CELL_CHARS:,}"
                    )
                entry = self._entry(row, columns, line, len(header), problems)
                if entry is not None:
                    sections.setdefault(entry.scheme, line)
                    entries.append(entry)
        except csv.Error as exc:
            raise MalformedFileError(f"{source} line {reader.line_num}: {exc}") from exc
        problems.raise_if_any()
        return Crosswalk(
            organisation=default_organisation,
            source=source,
            entries=tuple(entries),
            sections=sections,
        )

    @staticmethod
    def _columns(header: list[str], problems: Problems) -> dict[str, int]:
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            if not name:
                continue
            if name not in _CSV_COLUMNS:
                problems.add(1, f"unknown column {name!r}; expected {', '.join(_CSV_COLUMNS)}")
            elif name in columns:
                problems.add(1, f"column {name!r} appears twice")
            else:
                columns[name] = index
        missing = [c for c in ("scheme", "target") if c not in columns]
        if "code" not in columns and "label" not in columns:
            missing.append("label (or code)")
        if missing:
            problems.add(1, f"the header lacks the column(s) {', '.join(missing)}")
        problems.raise_if_any()  # without usable columns no row can be read
        return columns

    @staticmethod
    def _entry(
        row: list[str], columns: dict[str, int], line: int, width: int, problems: Problems
    ) -> Entry | None:
        if not any(cell.strip() for cell in row):
            return None  # blank and all-empty rows (",,,") are spreadsheet padding
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            problems.add(line, f"{len(row)} values but the header has {width} columns")
            return None

        def cell(name: str) -> str | None:
            index = columns.get(name)
            return clean(row[index]) if index is not None and index < len(row) else None

        scheme, code, label = cell("scheme"), cell("code"), cell("label")
        if scheme is None:
            problems.add(line, "the scheme is empty (e.g. abuse_type, age_band)")
            return None
        if code is None and label is None:
            problems.add(line, "the entry has neither a code nor a label")
            return None
        return Entry(
            scheme=scheme,
            line=line,
            code=code,
            label=label,
            target=cell("target"),
            lang=cell("lang"),
            note=cell("note"),
        )
