"""Access to sharing agreements and their releases: by party, not by one organisation.

Why a guard of its own: an agreement (and every release made under it) belongs to several
organisations at once, its provider and each recipient, and some work may be done under either
of two permissions (an administrator or a data steward may draft an agreement). Routes depend on
:func:`requires_any` and then ask :meth:`PartyGuard.check_party` (or :meth:`PartyGuard.check`
for the provider alone); the decision for each organisation still comes from the one access
policy, :func:`concord.protect.policy.decide`.

Refusals are 403s with the policy's reasons, as everywhere else in the web layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from concord.errors import PermissionDeniedError
from concord.protect.policy import PERMISSION_TEXT, Principal, decide
from concord.protect.roles import Permission, Role
from concord.share import Agreement
from concord.web.auth import current_principal


@dataclass(frozen=True)
class PartyGuard:
    """A principal holding at least one of ``permissions`` somewhere; checks organisations."""

    principal: Principal
    permissions: tuple[Permission, ...]

    @property
    def wording(self) -> str:
        return " or ".join(PERMISSION_TEXT[p] for p in self.permissions)

    def allows(self, organisation: str) -> bool:
        return any(self.principal.can(p, organisation) for p in self.permissions)

    def organisations(self) -> list[str]:
        """Organisations in which the principal holds one of the permissions."""
        return sorted({o for p in self.permissions for o in self.principal.organisations_with(p)})

    def check(self, organisation: str) -> None:
        """Refuse (403, with the policy's reasons) unless allowed in ``organisation``."""
        if self.allows(organisation):
            return
        reasons: list[str] = []
        for permission in self.permissions:
            for reason in decide(self.principal, permission, organisation).reasons:
                if reason not in reasons:
                    reasons.append(reason)
        raise PermissionDeniedError(
            f"you may not {self.wording} for {organisation}", details=reasons
        )

    def is_party(self, agreement: Agreement) -> bool:
        """Whether one of the agreement's parties is an organisation the principal may act for."""
        return any(self.allows(org) for org in agreement.parties)

    def check_party(self, agreement: Agreement) -> None:
        """Refuse unless the principal may act for the provider or a recipient."""
        if not self.is_party(agreement):
            mine = ", ".join(self.principal.organisations) or "none"
            raise PermissionDeniedError(
                f"agreement {agreement.id!r} is between {', '.join(agreement.parties)}: "
                f"you may not {self.wording} for any of them",
                details=[f"your organisations: {mine}"],
            )

    def administers(self, agreement: Agreement) -> list[str]:
        """Parties in which the principal holds the administrator role: those it may approve
        for (node administrators administer users, but commit no organisation to a text)."""
        return [
            org
            for org in agreement.parties
            if Role.ADMINISTRATOR in self.principal.roles.get(org, frozenset())
        ]


def requires_any(*permissions: Permission) -> Callable[..., PartyGuard]:
    """A dependency: the principal must hold one of ``permissions`` in some organisation.

    Refuses at once (as :func:`concord.web.auth.requires` does) when it holds none anywhere.
    """

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> PartyGuard:
        guard = PartyGuard(principal, tuple(permissions))
        if not guard.organisations():
            reasons: list[str] = []
            for org in principal.organisations or ["any organisation"]:
                for permission in permissions:
                    for reason in decide(principal, permission, org).reasons:
                        if reason not in reasons:
                            reasons.append(reason)
            raise PermissionDeniedError(f"you may not {guard.wording}", details=reasons)
        return guard

    dependency.__name__ = "requires_" + "_or_".join(p.name.lower() for p in permissions)
    return dependency
