"""Load the vocabulary from its YAML files (the shipped one, or a directory a user points at).

Layout of a vocabulary directory::

    vocabulary.yaml        version, languages, scheme list, changelog
    schemes/<scheme>.yaml  one concept scheme each

Loading validates shape (pydantic) and then every cross-concept rule
(:func:`concord.vocab.integrity.check`); any failure is a :class:`VocabularyError` listing all
problems found, so a maintainer fixes them in one pass.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from concord.errors import VocabularyError
from concord.validation import describe_validation_error
from concord.vocab.integrity import check
from concord.vocab.model import Vocabulary
from concord.yamlio import read_yaml

SHIPPED_DIR = Path(str(files("concord.vocab") / "data"))


def vocabulary_from_document(
    document: dict[str, Any], *, source: str, check_integrity: bool = True
) -> Vocabulary:
    """Validate plain data (from YAML, JSON or SKOS) into a Vocabulary, listing every problem.

    Every way into Concord goes through here, so a vocabulary read from any format obeys the
    same shape and integrity rules.
    """
    try:
        vocabulary = Vocabulary.model_validate(document)
    except ValidationError as exc:
        raise VocabularyError(
            f"{source}: the vocabulary does not have the expected shape",
            details=describe_validation_error(exc, source),
        ) from exc
    if check_integrity:
        problems = check(vocabulary)
        if problems:
            raise VocabularyError(
                f"{source}: {len(problems)} integrity problem(s) in the vocabulary",
                details=problems,
            )
    return vocabulary


def load_vocabulary(directory: Path) -> Vocabulary:
    """Read, validate and integrity-check the vocabulary in ``directory``."""
    manifest_path = directory / "vocabulary.yaml"
    manifest = read_yaml(manifest_path)
    if not isinstance(manifest, dict) or "schemes" not in manifest:
        raise VocabularyError(f"{manifest_path}: expected a mapping with a 'schemes' list")
    scheme_docs: list[Any] = []
    for name in manifest["schemes"]:
        doc = read_yaml(directory / "schemes" / f"{name}.yaml")
        if not isinstance(doc, dict):
            raise VocabularyError(f"{directory / 'schemes' / f'{name}.yaml'}: expected a mapping")
        scheme_docs.append(doc)
    return vocabulary_from_document({**manifest, "schemes": scheme_docs}, source=str(directory))


@lru_cache(maxsize=1)
def shipped_vocabulary() -> Vocabulary:
    """The vocabulary shipped inside the package (parsed once per process)."""
    return load_vocabulary(SHIPPED_DIR)
