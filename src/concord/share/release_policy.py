"""The policy decision in front of every release: each rule of the agreement, allow or deny.

Why every rule is evaluated even after one fails: a steward fixes a release in one pass when the
decision lists everything that stands in the way, and the decision travels with the release (in
the bundle and the audit trail) as the record of *why* it was allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from concord.errors import InputError, PermissionDeniedError
from concord.indicators.definitions import IndicatorRegistry
from concord.indicators.frame import dimension_named
from concord.protect.policy import Principal, decide
from concord.protect.roles import Permission
from concord.share.agreement import Frequency, Level
from concord.share.noise import check_spend, remaining
from concord.share.periods import KIND_MONTHS, ReleasePeriod, period_containing
from concord.share.record_release import field_problems
from concord.share.registry import IN_FORCE, StoredAgreement
from concord.share.tables import MONTH, TableSpec, crosses


@dataclass(frozen=True)
class RuleOutcome:
    """One rule: whether it allows the release, and the reason in words."""

    rule: str
    allowed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "allowed": self.allowed, "reason": self.reason}


@dataclass(frozen=True)
class Decision:
    """Every rule's outcome; the release is allowed only if all allow it."""

    outcomes: tuple[RuleOutcome, ...]

    @property
    def allowed(self) -> bool:
        return all(o.allowed for o in self.outcomes)

    @property
    def refusals(self) -> list[str]:
        return [f"{o.rule}: {o.reason}" for o in self.outcomes if not o.allowed]

    def to_list(self) -> list[dict[str, Any]]:
        return [o.to_dict() for o in self.outcomes]


@dataclass(frozen=True)
class ReleaseContext:
    """What the rules look at besides the agreement itself."""

    stored: StoredAgreement
    period: ReleasePeriod
    tables: Sequence[TableSpec]
    registry: IndicatorRegistry
    principal: Principal
    today: date
    epsilon: float | None = None
    epsilon_spent: float = 0.0


_FREQUENCY_KIND = {
    Frequency.MONTHLY: "month",
    Frequency.QUARTERLY: "quarter",
    Frequency.YEARLY: "year",
}


def decide_release(ctx: ReleaseContext) -> Decision:
    """Evaluate every rule (see the rule functions below, one per rule)."""
    rules = (
        _in_force,
        _validity,
        _period_over,
        _frequency,
        _releaser,
        _training,
        _purpose,
        _indicators,
        _dimensions,
        _never_cross,
        _consent,
        _budget,
    )
    return Decision(tuple(rule(ctx) for rule in rules))


def _in_force(ctx: ReleaseContext) -> RuleOutcome:
    a = ctx.stored.agreement
    if ctx.stored.status == IN_FORCE:
        return RuleOutcome("agreement_in_force", True, f"version {a.version} is in force")
    waiting = ", ".join(ctx.stored.waiting_for)
    more = f" (waiting for approval by {waiting})" if waiting else ""
    return RuleOutcome(
        "agreement_in_force", False, f"version {a.version} is {ctx.stored.status}{more}"
    )


def _validity(ctx: ReleaseContext) -> RuleOutcome:
    a, p = ctx.stored.agreement, ctx.period
    ok = a.valid_from <= p.start and p.end <= a.valid_to
    span = f"{a.valid_from}..{a.valid_to}"
    reason = (
        f"{p.label} lies within the agreement's validity {span}"
        if ok
        else f"{p.label} ({p.start}..{p.end}) is not within the agreement's validity {span}"
    )
    return RuleOutcome("period_within_validity", ok, reason)


def _period_over(ctx: ReleaseContext) -> RuleOutcome:
    ok = ctx.period.end < ctx.today
    reason = (
        f"{ctx.period.label} ended on {ctx.period.end}"
        if ok
        else f"{ctx.period.label} has not ended yet (last day {ctx.period.end}): a period "
        "still being reported is incomplete and would be released again"
    )
    return RuleOutcome("period_complete", ok, reason)


def _frequency(ctx: ReleaseContext) -> RuleOutcome:
    frequency = ctx.stored.agreement.frequency
    wanted = _FREQUENCY_KIND.get(frequency)
    if wanted is None or ctx.period.kind == wanted:
        return RuleOutcome(
            "frequency", True, f"a {frequency.value} agreement releases {ctx.period.label}"
        )
    return RuleOutcome(
        "frequency",
        False,
        f"the agreement is {frequency.value}: release one {wanted} at a time, "
        f"not {ctx.period.label}",
    )


def _releaser(ctx: ReleaseContext) -> RuleOutcome:
    provider = ctx.stored.agreement.provider
    verdict = decide(ctx.principal, Permission.RELEASE_WRITE, provider)
    if verdict.allowed:
        reason = f"{ctx.principal.username} may release for {provider}"
    else:
        reason = "; ".join(verdict.reasons)
    return RuleOutcome("releaser_authorised", verdict.allowed, reason)


def _training(ctx: ReleaseContext) -> RuleOutcome:
    missing = list(ctx.principal.training.missing)
    if not missing:
        return RuleOutcome(
            "releaser_training", True, f"{ctx.principal.username} has current training"
        )
    return RuleOutcome(
        "releaser_training",
        False,
        f"{ctx.principal.username} lacks current training: {', '.join(missing)}",
    )


def _purpose(ctx: ReleaseContext) -> RuleOutcome:
    a = ctx.stored.agreement
    held = ctx.principal.org_purposes.get(a.provider, frozenset())
    ok = a.purpose in held
    reason = (
        f"{a.provider} holds the purpose {a.purpose}"
        if ok
        else f"{a.provider} does not hold the purpose {a.purpose} "
        "(an administrator grants it: concord admin purpose allow)"
    )
    return RuleOutcome("purpose_held", ok, reason)


def _records(ctx: ReleaseContext) -> bool:
    return ctx.stored.agreement.level is Level.PSEUDONYMISED_RECORDS


def _fields(ctx: ReleaseContext) -> RuleOutcome:
    fields = ctx.stored.agreement.shares.fields
    wrong = field_problems(fields) or (
        [] if fields else ["a record-level agreement must list shares.fields"]
    )
    if wrong:
        return RuleOutcome("fields_shared", False, "; ".join(wrong))
    return RuleOutcome("fields_shared", True, f"record fields: {', '.join(fields)}")


def _indicators(ctx: ReleaseContext) -> RuleOutcome:
    if _records(ctx):
        return _fields(ctx)
    shared = set(ctx.stored.agreement.shares.indicators)
    known = {d.id: d for d in ctx.registry}
    problems: list[str] = []
    for spec in ctx.tables:
        definition = known.get(spec.indicator)
        if spec.indicator not in shared:
            problems.append(f"{spec.indicator} is not among the agreement's shared indicators")
        elif definition is None:
            problems.append(f"{spec.indicator} is not an indicator this node knows")
        elif definition.kind != "count" or definition.source != "records":
            problems.append(f"{spec.indicator} is a {definition.kind}: releases carry counts")
    if not ctx.tables:
        problems.append("the release has no tables (the agreement shares no count indicator)")
    if problems:
        return RuleOutcome("indicators_shared", False, "; ".join(problems))
    names = sorted({s.indicator for s in ctx.tables})
    return RuleOutcome("indicators_shared", True, f"shared: {', '.join(names)}")


def _dimensions(ctx: ReleaseContext) -> RuleOutcome:
    if _records(ctx):
        return RuleOutcome("dimensions_shared", True, "a record-level release has no tables")
    shared = set(ctx.stored.agreement.shares.dimensions)
    known = {d.id: d for d in ctx.registry}
    problems: list[str] = []
    for spec in ctx.tables:
        definition = known.get(spec.indicator)
        supported = {*definition.dimensions(), MONTH} if definition else set()
        for dim in spec.dimensions:
            if dim != MONTH and dimension_named(dim) is None:
                problems.append(f"{dim!r} is not a dimension Concord knows")
            elif dim not in shared:
                problems.append(f"{spec.label()}: {dim} is not among the shared dimensions")
            elif definition and dim not in supported:
                problems.append(f"{spec.indicator} cannot be broken down by {dim}")
    if problems:
        return RuleOutcome("dimensions_shared", False, "; ".join(dict.fromkeys(problems)))
    return RuleOutcome("dimensions_shared", True, "every table uses shared dimensions only")


def _never_cross(ctx: ReleaseContext) -> RuleOutcome:
    forbidden = ctx.stored.agreement.disclosure.never_cross
    hits = [
        f"{spec.label()} crosses {' × '.join(combo)}"
        for spec in ctx.tables
        for combo in crosses(spec.dimensions, forbidden)
    ]
    if _records(ctx):
        hits = [
            f"the records would carry {' × '.join(combo)} together"
            for combo in crosses(ctx.stored.agreement.shares.fields, forbidden)
        ]
    if hits:
        return RuleOutcome("never_cross", False, "; ".join(hits))
    return RuleOutcome("never_cross", True, "no table crosses a forbidden combination")


def _consent(ctx: ReleaseContext) -> RuleOutcome:
    a = ctx.stored.agreement
    if a.level is Level.AGGREGATE:
        return RuleOutcome("consent", True, "aggregate tables: no single child can be seen")
    if ctx.stored.agreement.disclosure.dp is not None:
        return RuleOutcome(
            "consent", False, "differential privacy applies to aggregate tables, not to records"
        )
    return RuleOutcome(
        "consent",
        a.consent_required,
        "only subjects whose consent covers this agreement (or a recorded harm exception) "
        "are included"
        if a.consent_required
        else "record-level sharing needs consent_required: true",
    )


def _budget(ctx: ReleaseContext) -> RuleOutcome:
    dp = ctx.stored.agreement.disclosure.dp
    if dp is None:
        return RuleOutcome("privacy_budget", True, "no differential privacy budget applies")
    budget_period = period_containing(ctx.period.start, dp.period)
    if ctx.period.end > budget_period.end or (
        ctx.period.kind != "range" and KIND_MONTHS.get(ctx.period.kind, 0) > KIND_MONTHS[dp.period]
    ):
        return RuleOutcome(
            "privacy_budget",
            False,
            f"{ctx.period.label} spans more than one budget {dp.period}; release it "
            f"{dp.period} by {dp.period}",
        )
    spent = [ctx.epsilon_spent]
    left = remaining(dp.epsilon, spent)
    request = ctx.epsilon if ctx.epsilon is not None else left
    where = f"budget {dp.epsilon:g} per {dp.period} ({budget_period.label})"
    try:
        check_spend(dp.epsilon, spent, request)
    except (InputError, PermissionDeniedError):
        return RuleOutcome(
            "privacy_budget",
            False,
            f"the {where} is spent: {ctx.epsilon_spent:g} used, {max(request, 0):g} requested",
        )
    return RuleOutcome(
        "privacy_budget", True, f"spends ε = {request:g} of the {where}; {left - request:g} left"
    )
