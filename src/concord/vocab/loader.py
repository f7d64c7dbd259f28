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
from concord.vocab.integrity import check
from concord.vocab.model import Vocabulary
from concord.yamlio import read_yaml

SHIPPED_DIR = Path(str(files("concord.vocab") / "data"))


def _format_validation(exc: ValidationError, source: str) -> list[str]:
    return [
        f"{source}: {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
        for err in exc.errors()
    ]


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
    try:
        vocabulary = Vocabulary.model_validate({**manifest, "schemes": scheme_docs})
    except ValidationError as exc:
        raise VocabularyError(
            f"{directory}: the vocabulary does not have the expected shape",
            details=_format_validation(exc, str(directory)),
        ) from exc
    problems = check(vocabulary)
    if problems:
        raise VocabularyError(
            f"{directory}: {len(problems)} integrity problem(s) in the vocabulary",
            details=problems,
        )
    return vocabulary


@lru_cache(maxsize=1)
def shipped_vocabulary() -> Vocabulary:
    """The vocabulary shipped inside the package (parsed once per process)."""
    return load_vocabulary(SHIPPED_DIR)
