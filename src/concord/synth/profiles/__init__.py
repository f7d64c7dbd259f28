"""The built-in fictional organisations, registered the way an outside package would add one.

Every profile has a unique lowercase slug that is also its file stem (``helpline-fr.csv``) and
its crosswalk's ``organisation``; :func:`build_registry` refuses duplicates with a real error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from concord.errors import ConfigurationError, NotFoundError
from concord.synth.model import Profile
from concord.synth.profiles import (
    helpline_fr,
    hotline_es,
    hotline_uk,
    ngo_ke,
    ngo_my,
    office_mx,
    platform_th,
)

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

#: The shipped organisations, in the order they are listed and generated.
BUILTIN: tuple[Profile, ...] = (
    helpline_fr.PROFILE,
    hotline_es.PROFILE,
    hotline_uk.PROFILE,
    ngo_ke.PROFILE,
    office_mx.PROFILE,
    platform_th.PROFILE,
    ngo_my.PROFILE,
)


def build_registry(profiles: Iterable[Profile]) -> dict[str, Profile]:
    """Slug → profile, refusing bad or duplicate slugs and duplicate columns."""
    registry: dict[str, Profile] = {}
    for profile in profiles:
        if not SLUG_RE.match(profile.slug):
            raise ConfigurationError(
                f"organisation slug {profile.slug!r} must be lowercase words joined by '-'"
            )
        if profile.slug in registry:
            raise ConfigurationError(f"two synthetic organisations are named {profile.slug!r}")
        columns = profile.columns
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ConfigurationError(
                f"{profile.slug}: columns {', '.join(repeated)} appear more than once"
            )
        registry[profile.slug] = profile
    return registry


REGISTRY: dict[str, Profile] = build_registry(BUILTIN)


def organisations() -> list[Profile]:
    """Every built-in organisation, in generation order."""
    return list(REGISTRY.values())


def get_profile(slug: str) -> Profile:
    """The organisation named ``slug``, or a NotFoundError listing the known ones."""
    try:
        return REGISTRY[slug]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise NotFoundError(
            f"no synthetic organisation {slug!r}; the organisations are {known}"
        ) from None
