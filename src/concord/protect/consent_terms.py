"""The terms consent is written in: parties, statuses, capacity outcomes and scopes, and the
checks every consent function makes on the subject, organisation and moment it is given.

Why scopes are strings and not rows: a consent form names uses ("to refer me", "to share with
helpline-fr"), and a record must keep exactly what was agreed even after agreements and
organisations change. Sharing is always named (an organisation or an agreement): nobody can
consent to "sharing" in general, because a child or caregiver cannot weigh a recipient they do
not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from concord.errors import InputError
from concord.moments import as_utc
from concord.slugs import ORG_SLUG

CHILD = "child"
CAREGIVER = "caregiver"
PARTIES = (CHILD, CAREGIVER)

GIVEN = "given"
REFUSED = "refused"
NOT_APPLICABLE = "not_applicable"
STATUSES = (GIVEN, REFUSED, NOT_APPLICABLE)

CAPABLE = "capable"
NOT_CAPABLE = "not_capable"
OUTCOMES = (CAPABLE, NOT_CAPABLE)

CASE_MANAGEMENT = "case_management"
REFERRAL = "referral"
RESEARCH = "research"
#: Scopes that need no parameter; the same slugs as the purposes Concord ships.
SIMPLE_SCOPES = (CASE_MANAGEMENT, REFERRAL, RESEARCH)
SHARING_ORG_PREFIX = "sharing:org:"
SHARING_AGREEMENT_PREFIX = "sharing:agreement:"

# Organisation slugs as PseudonymKeys accepts them; agreement ids may also carry upper case,
# dots and digits (agreement numbers such as "DSA-2026.04").
_AGREEMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SUBJECT_KEY = re.compile(r"^[0-9a-f]{64}$")
_SCOPE_HELP = (
    "known scopes: case_management, referral, research, sharing:org:<organisation>, "
    "sharing:agreement:<agreement id>"
)


def sharing_org_scope(organisation: str) -> str:
    """The scope of sharing with one named organisation."""
    return validate_scope(SHARING_ORG_PREFIX + organisation)


def sharing_agreement_scope(agreement_id: str) -> str:
    """The scope of sharing under one named data-sharing agreement."""
    return validate_scope(SHARING_AGREEMENT_PREFIX + agreement_id)


def validate_scope(scope: str) -> str:
    """``scope`` if it is a known scope, else an :class:`InputError` saying which ones exist."""
    if scope in SIMPLE_SCOPES:
        return scope
    if scope.startswith(SHARING_ORG_PREFIX):
        if ORG_SLUG.match(scope.removeprefix(SHARING_ORG_PREFIX)):
            return scope
        raise InputError(
            f"{scope!r}: the organisation after {SHARING_ORG_PREFIX!r} must be an organisation "
            "slug (lowercase letters, digits, '-' and '_')"
        )
    if scope.startswith(SHARING_AGREEMENT_PREFIX):
        if _AGREEMENT_ID.match(scope.removeprefix(SHARING_AGREEMENT_PREFIX)):
            return scope
        raise InputError(
            f"{scope!r}: the agreement id after {SHARING_AGREEMENT_PREFIX!r} must be letters, "
            "digits, '.', '-' or '_'"
        )
    if scope == "sharing" or scope.startswith("sharing:"):
        raise InputError(
            f"{scope!r}: consent to sharing must name the organisation or the agreement "
            f"({_SCOPE_HELP})"
        )
    raise InputError(f"unknown consent scope {scope!r} ({_SCOPE_HELP})")


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """Each scope checked, duplicates dropped, in a stable (sorted) order."""
    return sorted({validate_scope(scope.strip()) for scope in scopes})


def scope_label(scope: str) -> str:
    """How a reason sentence names a scope ("sharing with helpline-fr")."""
    if scope.startswith(SHARING_ORG_PREFIX):
        return f"sharing with {scope.removeprefix(SHARING_ORG_PREFIX)}"
    if scope.startswith(SHARING_AGREEMENT_PREFIX):
        return f"sharing under agreement {scope.removeprefix(SHARING_AGREEMENT_PREFIX)}"
    return scope.replace("_", " ")


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InputError(f"{what} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def check_subject(organisation: str, subject_key: str) -> None:
    """Refuse an organisation that is not a slug or a subject that is not a pseudonym.

    Why insist on the pseudonym's shape: a raw child id passed by mistake would otherwise be
    stored in clear next to the consent record.
    """
    if not ORG_SLUG.match(organisation):
        raise InputError(f"{organisation!r} is not a valid organisation slug")
    if not _SUBJECT_KEY.match(subject_key):
        raise InputError(
            "subject_key must be the subject's pseudonym (64 hexadecimal characters, from "
            "PseudonymKeys.subject_key), never the organisation's own child id"
        )


def require_text(value: str | None, what: str) -> str:
    """``value`` stripped, or an :class:`InputError` when it is missing or blank."""
    text = (value or "").strip()
    if not text:
        raise InputError(f"{what} is required")
    return text


def moment(at: datetime | None, what: str = "the time") -> datetime:
    """``at`` in UTC (default: now). Refuses the future: consent facts are recorded after they
    happen, and a future time would let a record take effect unseen later."""
    now = datetime.now(UTC)
    if at is None:
        return now
    when = as_utc(at)
    if when > now:
        raise InputError(f"{what} {when.isoformat(timespec='seconds')} is in the future")
    return when


def day(moment_: datetime) -> str:
    """The ISO date of a moment, as reasons print it."""
    return as_utc(moment_).date().isoformat()
