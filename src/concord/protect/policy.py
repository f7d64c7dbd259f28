"""The access policy: the one place that decides whether a principal may do something.

Routes and commands never check roles themselves; they ask :func:`decide` (or
:meth:`Principal.require`) and get a :class:`Decision` that says *why*. The rules, in order:

1. **Role.** The principal holds, in the organisation concerned, a role granting the permission
   (node administrators may administer every organisation, but that gives them no data).
2. **Token scope.** A request made with an API token may use only the permissions the token was
   scoped for.
3. **Training gate** (record-level and identifying permissions only). Both data protection and
   child safeguarding training must be current; otherwise only aggregates, and the decision lists
   what is missing.
4. **Purpose** (record-level and identifying only). The user has stated a purpose for the session
   or request; the organisation holds that purpose; the purpose justifies record-level data
   (statistics does not) and, for identifying values, identifying data.

Aggregates need only rule 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from concord.errors import PermissionDeniedError
from concord.protect.roles import ROLE_PERMISSIONS, SENSITIVITY, Permission, Role, Sensitivity
from concord.protect.training import TrainingStatus

PERMISSION_TEXT: dict[Permission, str] = {
    Permission.AGGREGATE_READ: "see aggregate counts",
    Permission.BATCH_READ: "see import batches and quality reports",
    Permission.RECORD_READ: "see record-level data",
    Permission.QUARANTINE_MANAGE: "see and correct quarantined rows",
    Permission.INGEST: "import partner files",
    Permission.IDENTIFYING_READ: "reveal identifying values",
    Permission.CONSENT_READ: "see consent records",
    Permission.CONSENT_WRITE: "record consent",
    Permission.MINIMISATION_READ: "see the minimisation report",
    Permission.RETENTION_MANAGE: "manage retention",
    Permission.AUDIT_READ: "read the audit trail",
    Permission.ORG_ADMIN: "administer users, roles, purposes and training",
    Permission.RELEASE_READ: "see releases and their risk reports",
    Permission.RELEASE_WRITE: "make or revoke releases under sharing agreements",
    Permission.FEDERATION_MANAGE: "manage the federation (trusted nodes, pushes to the hub)",
}


@dataclass(frozen=True)
class PurposeInfo:
    """What the policy needs to know about a purpose."""

    slug: str
    name: str
    record_level: bool
    identifying: bool


@dataclass(frozen=True)
class Principal:
    """Who is asking, with everything the policy needs (loaded once per request)."""

    user_id: int
    username: str
    display_name: str
    roles: Mapping[str, frozenset[Role]]  # organisation → roles held there
    training: TrainingStatus
    purpose: str | None = None
    #: Purposes each organisation of the principal holds.
    org_purposes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    purposes: Mapping[str, PurposeInfo] = field(default_factory=dict)
    node_admin: bool = False
    is_demo: bool = False
    #: Permissions an API token is limited to; None for a browser session.
    scopes: frozenset[Permission] | None = None
    via: str = "session"  # session | token

    @property
    def organisations(self) -> list[str]:
        return sorted(self.roles)

    @property
    def held_purposes(self) -> frozenset[str]:
        """Purposes held by at least one of the principal's organisations (what it may state)."""
        return frozenset(p for org in self.roles for p in self.org_purposes.get(org, ()))

    def permissions_in(self, organisation: str) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for role in self.roles.get(organisation, frozenset()):
            granted |= ROLE_PERMISSIONS[role]
        if self.node_admin:
            granted.add(Permission.ORG_ADMIN)
        return frozenset(granted)

    def can(self, permission: Permission, organisation: str) -> bool:
        return decide(self, permission, organisation).allowed

    def organisations_with(self, permission: Permission) -> list[str]:
        """Organisations whose data this principal may use for ``permission`` right now."""
        candidates: Iterable[str] = self.roles
        if self.node_admin and permission is Permission.ORG_ADMIN:
            candidates = set(self.roles) | set(self.org_purposes)
        return sorted(o for o in candidates if self.can(permission, o))

    def require(self, permission: Permission, organisation: str) -> Decision:
        decision = decide(self, permission, organisation)
        if not decision.allowed:
            raise PermissionDeniedError(decision.summary, details=decision.reasons)
        return decision


@dataclass(frozen=True)
class Decision:
    allowed: bool
    permission: Permission
    organisation: str
    reasons: list[str]
    purpose: str | None = None

    @property
    def summary(self) -> str:
        verb = "may" if self.allowed else "may not"
        return f"you {verb} {PERMISSION_TEXT[self.permission]} of {self.organisation}"


def decide(principal: Principal, permission: Permission, organisation: str) -> Decision:
    """Apply the rules in the module docstring; every failing rule adds its reason."""
    reasons: list[str] = []
    granted = principal.permissions_in(organisation)
    if permission not in granted:
        held = ", ".join(sorted(r.value for r in principal.roles.get(organisation, ()))) or "none"
        reasons.append(
            f"your roles in {organisation} ({held}) do not allow you to "
            f"{PERMISSION_TEXT[permission]}"
        )
    if principal.scopes is not None and permission not in principal.scopes:
        reasons.append(f"this API token is not scoped for {permission.value}")
    sensitivity = SENSITIVITY[permission]
    if sensitivity in (Sensitivity.RECORD, Sensitivity.IDENTIFYING) and not reasons:
        reasons.extend(_record_level_reasons(principal, sensitivity, organisation))
    if reasons:
        return Decision(False, permission, organisation, reasons, principal.purpose)
    why = [f"granted by your role in {organisation}"]
    if principal.purpose and sensitivity in (Sensitivity.RECORD, Sensitivity.IDENTIFYING):
        why.append(f"for the purpose {principal.purpose}, with current training")
    return Decision(True, permission, organisation, why, principal.purpose)


def _record_level_reasons(
    principal: Principal, sensitivity: Sensitivity, organisation: str
) -> list[str]:
    reasons = [
        f"{missing}: without current data protection and child safeguarding training you see "
        "aggregates only"
        for missing in principal.training.missing
    ]
    purpose = principal.purpose
    if purpose is None:
        reasons.append("state the purpose you need this data for (it is recorded with each use)")
        return reasons
    info = principal.purposes.get(purpose)
    if info is None:
        reasons.append(f"{purpose!r} is not a registered purpose")
        return reasons
    if purpose not in principal.org_purposes.get(organisation, frozenset()):
        reasons.append(f"{organisation} does not hold the purpose {info.name.lower()}")
    if not info.record_level:
        reasons.append(f"the purpose {info.name.lower()} allows aggregates only")
    elif sensitivity is Sensitivity.IDENTIFYING and not info.identifying:
        reasons.append(f"the purpose {info.name.lower()} does not justify identifying values")
    return reasons
