"""The mapping specs a node knows: ``*.mapping.yaml`` files in its mapping directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from concord.errors import NotFoundError

SUFFIX = ".mapping.yaml"


@dataclass(frozen=True)
class MappingFile:
    name: str  # the file name without the suffix, e.g. "helpline-fr"
    path: Path


def available_mappings(directory: Path) -> list[MappingFile]:
    """Mapping specs in ``directory`` (none when it does not exist), sorted by name."""
    if not directory.is_dir():
        return []
    return sorted(
        (MappingFile(p.name.removesuffix(SUFFIX), p) for p in directory.glob(f"*{SUFFIX}")),
        key=lambda m: m.name,
    )


def mapping_named(directory: Path, name: str) -> MappingFile:
    for mapping in available_mappings(directory):
        if mapping.name == name:
            return mapping
    raise NotFoundError(f"no mapping spec {name!r} in {directory} (CONCORD_MAPPING_DIR)")
