"""The registry of vocabulary export formats (``skos``, ``json``, ``csv``, ``csv-terms``, ``misp``).

Why a registry: the CLI and (later) the web API offer the same formats with the same names, media
types and file suffixes, and a partner package can add a format through the same door as ours.
Each format names its render function as ``"module:function"`` and is imported only when used,
so listing formats (``concord --help``) does not pay for importing rdflib.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from concord.errors import ConfigurationError, InputError
from concord.vocab.model import Vocabulary

Renderer = Callable[[Vocabulary], str]


@dataclass(frozen=True)
class ExportFormat:
    """One export format; ``name`` is its stable, lowercase, unique key (``--format`` value)."""

    name: str
    description: str
    media_type: str
    suffix: str
    #: ``"package.module:function"``, a function taking a Vocabulary and returning the text.
    renderer: str

    def render(self, vocabulary: Vocabulary) -> str:
        module_name, _, attribute = self.renderer.partition(":")
        function = getattr(importlib.import_module(module_name), attribute, None)
        if not callable(function):
            raise ConfigurationError(
                f"export format {self.name!r}: {self.renderer} is not a function"
            )
        return cast(Renderer, function)(vocabulary)


BUILTIN_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        "skos",
        "SKOS thesaurus in Turtle (lossless; imports back)",
        "text/turtle",
        ".ttl",
        "concord.vocab.export_skos:to_turtle",
    ),
    ExportFormat(
        "json",
        "the full model as JSON, with derived narrower links",
        "application/json",
        ".json",
        "concord.vocab.export_tabular:to_json",
    ),
    ExportFormat(
        "csv",
        "one row per concept, for spreadsheets",
        "text/csv",
        ".csv",
        "concord.vocab.export_tabular:to_csv",
    ),
    ExportFormat(
        "csv-terms",
        "one row per discouraged term and its replacement",
        "text/csv",
        ".csv",
        "concord.vocab.export_tabular:to_terms_csv",
    ),
    ExportFormat(
        "misp",
        "MISP taxonomy (machinetag.json)",
        "application/json",
        ".json",
        "concord.vocab.export_misp:to_misp_json",
    ),
)


class ExportRegistry:
    """Export formats by name; built explicitly, refusing two formats with one name."""

    def __init__(self, formats: Iterable[ExportFormat]) -> None:
        self._formats: dict[str, ExportFormat] = {}
        for fmt in formats:
            if fmt.name != fmt.name.lower() or not fmt.name:
                raise ConfigurationError(f"export format name {fmt.name!r} must be lowercase")
            if fmt.name in self._formats:
                raise ConfigurationError(f"two export formats are named {fmt.name!r}")
            self._formats[fmt.name] = fmt

    def names(self) -> list[str]:
        return list(self._formats)

    def get(self, name: str) -> ExportFormat:
        try:
            return self._formats[name]
        except KeyError:
            raise InputError(
                f"unknown export format {name!r}; choose one of: {', '.join(self._formats)}"
            ) from None


def default_registry() -> ExportRegistry:
    """The built-in formats (partners extend by building a registry with theirs added)."""
    return ExportRegistry(BUILTIN_FORMATS)


def export_vocabulary(
    vocabulary: Vocabulary, format_name: str, *, registry: ExportRegistry | None = None
) -> str:
    """``vocabulary`` rendered in the named format."""
    return (registry or default_registry()).get(format_name).render(vocabulary)


def write_export(text: str, path: Path) -> None:
    """Write an export as UTF-8 exactly as rendered (CSV keeps its CRLF line ends)."""
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the export ({exc.strerror or exc})") from exc
