"""The release pipeline: agreement → policy decision → risk report → disclosure control →
stored release → signed bundle.

Why one pipeline for plan and run: ``concord release plan`` shows exactly what ``run`` would
publish (the same decision, the same protected cells, the same risk report), so a steward can
review a release before anything is signed; ``run`` then stores it, spends the privacy budget
and writes the bundle. A refused run is stored too, with its reasons.

The order of protection, per table (see docs/sharing.md):
1. raw counts from the indicator (:mod:`concord.share.aggregate`);
2. differential privacy, when the agreement has a budget: OpenDP discrete Laplace noise on the
   finest cells only (margins are then sums of noisy cells: post-processing, no extra budget);
3. the cube of every margin, primary and secondary suppression (:mod:`concord.share.suppression`);
4. differencing against earlier releases, re-suppressing until nothing differs by a small amount;
5. rounding of the published cells, when the agreement asks for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from concord.db.models import Release, ReleaseTable
from concord.errors import InputError, NotFoundError
from concord.indicators.definitions import IndicatorDefinition, IndicatorRegistry
from concord.indicators.frame import load_frame
from concord.protect.audit import AuditTrail
from concord.protect.policy import Principal
from concord.protect.pseudonyms import PseudonymKeys
from concord.share.aggregate import bound_contributions, count_cells, sensitivity
from concord.share.agreement import Level
from concord.share.cube import build_cube
from concord.share.differencing import differencing_risk, earlier_values
from concord.share.noise import laplace_counts, remaining
from concord.share.periods import ReleasePeriod, parse_period, period_containing
from concord.share.record_release import (
    RECORDS_TABLE,
    RecordSelection,
    k_anonymity,
    record_disclosures,
    select_records,
)
from concord.share.registry import IN_FORCE, StoredAgreement, get_agreement
from concord.share.release_policy import Decision, ReleaseContext, decide_release
from concord.share.risk import release_context, reliability_flags, table_risk
from concord.share.rounding import round_counts
from concord.share.suppression import DIFFERENCING, published_view, suppress
from concord.share.tables import TableSpec, default_tables, parse_table_spec
from concord.vocab.model import Vocabulary

RELEASED = "released"
REFUSED = "refused"
REVOKED = "revoked"
#: Differential privacy: at most this many values of a multi-valued field count per record.
DP_VALUES_PER_RECORD = 3
#: Differencing checks re-run suppression at most this often (each round only adds cells).
_DIFFERENCING_ROUNDS = 5


@dataclass(frozen=True)
class ReleaseRequest:
    """What a steward asks for: an agreement, a period, optionally tables and an epsilon."""

    agreement_id: str
    period: str
    tables: Sequence[str] = ()
    epsilon: float | None = None
    version: int | None = None


@dataclass(frozen=True)
class ProtectedTable:
    """One table after disclosure control: ``published`` is what leaves the node."""

    spec: TableSpec
    protected: pl.DataFrame  # dims, count (after noise, before rounding), status
    published: pl.DataFrame  # dims, count (null unless published; rounded), status

    @property
    def cells(self) -> list[list[Any]]:
        """The published cells as JSON-ready rows: dimension values, count, status."""
        return [list(row) for row in self.published.iter_rows()]


@dataclass(frozen=True)
class ReleasePlan:
    """Everything ``run`` would do, computed but not stored."""

    release_id: str
    stored: StoredAgreement
    period: ReleasePeriod
    decision: Decision
    tables: list[ProtectedTable]
    risk_report: dict[str, Any]
    method: dict[str, Any]
    vocabulary_version: str
    epsilon: float | None = None
    budget_period: str | None = None
    #: A record-level release: the consented records (no count tables then).
    records: RecordSelection | None = None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


def resolve_agreement(session: Session, agreement_id: str, version: int | None) -> StoredAgreement:
    """The version asked for, else the one in force, else the latest (the decision says why
    a version not in force cannot be released)."""
    if version is not None:
        return get_agreement(session, agreement_id, version)
    latest = get_agreement(session, agreement_id)
    for v in range(latest.agreement.version, 0, -1):
        try:
            stored = get_agreement(session, agreement_id, v)
        except NotFoundError:
            continue
        if stored.status == IN_FORCE:
            return stored
    return latest


def epsilon_spent(session: Session, agreement_id: str, budget_period: str) -> float:
    """Privacy-loss budget already spent under the agreement in one budget period.

    Revoked releases still count: what was published cannot be unpublished from a reader's
    memory, so revoking never gives budget back.
    """
    total = session.scalar(
        select(func.coalesce(func.sum(Release.epsilon), 0.0)).where(
            Release.agreement_id == agreement_id,
            Release.budget_period == budget_period,
            Release.status.in_((RELEASED, REVOKED)),
        )
    )
    return float(total or 0.0)


def plan_release(
    session: Session,
    request: ReleaseRequest,
    *,
    principal: Principal,
    vocabulary: Vocabulary,
    registry: IndicatorRegistry,
    engine: Engine | None = None,
    frame: pl.DataFrame | None = None,
    today: date | None = None,
    keys: PseudonymKeys | None = None,
) -> ReleasePlan:
    """Decide, measure the risk and protect every table; store nothing.

    ``frame`` is the provider's record frame (see :func:`concord.indicators.frame.load_frame`);
    without it the records of the provider received in the period are read through ``engine``.
    ``keys`` (the node's pseudonym keys) are needed by record-level releases only.
    """
    stored = resolve_agreement(session, request.agreement_id, request.version)
    agreement = stored.agreement
    period = parse_period(request.period)
    record_level = agreement.level is Level.PSEUDONYMISED_RECORDS
    specs = (
        []
        if record_level
        else [parse_table_spec(t) for t in request.tables]
        if request.tables
        else default_tables(agreement, registry)
    )
    dp = agreement.disclosure.dp
    budget_period = period_containing(period.start, dp.period).label if dp else None
    spent = epsilon_spent(session, agreement.id, budget_period) if budget_period else 0.0
    ctx = ReleaseContext(
        stored=stored,
        period=period,
        tables=specs,
        registry=registry,
        principal=principal,
        today=today or datetime.now(UTC).date(),
        epsilon=request.epsilon,
        epsilon_spent=spent,
    )
    decision = decide_release(ctx)
    epsilon = (
        (request.epsilon if request.epsilon is not None else remaining(dp.epsilon, [spent]))
        if dp
        else None
    )
    if frame is None:
        if engine is None:
            raise InputError("plan_release needs the record frame or an engine to read it")
        frame = load_frame(
            engine,
            organisations=[agreement.provider],
            received_from=period.start,
            received_to=period.end,
        )
    frame = _within(frame, period)
    definitions = {d.id: d for d in registry}
    usable = [s for s in specs if _computable(s, definitions)]
    tables: list[ProtectedTable] = []
    records: RecordSelection | None = None
    if decision.allowed and record_level:
        if keys is None:
            raise InputError("a record-level release needs the node's pseudonym keys")
        records = select_records(
            session,
            frame,
            organisation=agreement.provider,
            agreement_id=agreement.id,
            fields=agreement.shares.fields,
            keys=keys,
            at=datetime.now(UTC),
        )
    elif decision.allowed:
        tables = [
            _protect(
                session,
                s,
                definitions[s.indicator],
                frame,
                vocabulary,
                period,
                stored,
                epsilon / len(usable) if epsilon else None,
            )
            for s in usable
        ]
    min_cell = agreement.disclosure.min_cell
    risk = {
        "tables": [table_risk(t.spec.name, t.protected, min_cell) for t in tables],
        "reliability": reliability_flags(session, frame, usable, definitions, period),
        "context": release_context(frame, usable, definitions, period, vocabulary.version),
    }
    if records is not None:
        risk["records"] = k_anonymity(records.frame, agreement.shares.fields, min_cell) | {
            "excluded": records.excluded,
            "harm_exceptions": records.harm_exceptions,
        }
    return ReleasePlan(
        release_id=str(uuid.uuid4()),
        stored=stored,
        period=period,
        decision=decision,
        tables=tables,
        risk_report=risk,
        method=_method(stored, epsilon, usable),
        vocabulary_version=vocabulary.version,
        epsilon=epsilon if dp and decision.allowed else None,
        budget_period=budget_period,
        records=records,
    )


def _within(frame: pl.DataFrame, period: ReleasePeriod) -> pl.DataFrame:
    """Only the records received in ``period``, which the risk report and record-level releases
    count; a frame that holds nothing else (what ``load_frame`` reads) is not copied."""
    inside = frame["received_date"].is_between(period.start, period.end)
    return frame if inside.all() else frame.filter(inside)


def _computable(spec: TableSpec, definitions: dict[str, IndicatorDefinition]) -> bool:
    d = definitions.get(spec.indicator)
    return d is not None and d.kind == "count" and d.source == "records"


def _method(
    stored: StoredAgreement, epsilon: float | None, specs: Sequence[TableSpec]
) -> dict[str, Any]:
    rules = stored.agreement.disclosure
    dp: dict[str, Any] | None = None
    if rules.dp is not None and epsilon is not None:
        dp = {
            "mechanism": "discrete Laplace (OpenDP make_laplace) on the finest cells",
            "epsilon": epsilon,
            "epsilon_per_table": epsilon / len(specs) if specs else None,
            "budget": rules.dp.epsilon,
            "budget_period": rules.dp.period,
            "values_per_record": DP_VALUES_PER_RECORD,
            "margins": "sums of the noisy cells (post-processing)",
        }
    return {
        "min_cell": rules.min_cell,
        "primary_suppression": f"cells from 1 to {rules.min_cell - 1}",
        "secondary_suppression": "complementary cells until no suppressed cell is determined "
        "by the published cells and margins (exact linear-algebra audit)",
        "zeros": "published (structural)",
        "rounding_base": rules.rounding_base,
        "differential_privacy": dp,
        "differencing": None if dp else "compared with every earlier release under the agreement",
    }


def _protect(
    session: Session,
    spec: TableSpec,
    definition: IndicatorDefinition,
    frame: pl.DataFrame,
    vocabulary: Vocabulary,
    period: ReleasePeriod,
    stored: StoredAgreement,
    epsilon: float | None,
) -> ProtectedTable:
    rules = stored.agreement.disclosure
    dims = list(spec.dimensions)
    if epsilon is not None:
        frame = bound_contributions(frame, spec, DP_VALUES_PER_RECORD)
    cells = count_cells(definition, frame, vocabulary, spec, period)
    if epsilon is not None and cells.height:
        noisy = laplace_counts(
            cells["count"].to_numpy(),
            epsilon=epsilon,
            sensitivity=sensitivity(spec, DP_VALUES_PER_RECORD),
        )
        cells = cells.with_columns(pl.Series("count", noisy.counts, dtype=pl.Int64))
    if not cells.height:  # nothing was reported: an empty table, not an error
        empty = cells.with_columns(pl.lit("published").alias("status"))
        return ProtectedTable(spec, empty, empty)
    cube = build_cube(cells, dims)
    protected = suppress(cube, dims, min_cell=rules.min_cell)
    published = _publish(protected, rules.rounding_base)
    if epsilon is None:
        earlier = earlier_values(session, stored.agreement.id, spec.name, dims)
        sensitive = pl.Series("sensitive", [False] * cube.height, dtype=pl.Boolean)
        for _ in range(_DIFFERENCING_ROUNDS):
            risky = differencing_risk(published, dims, earlier, rules.min_cell)
            if not risky.any():
                break
            sensitive = sensitive | risky
            protected = suppress(cube, dims, min_cell=rules.min_cell, sensitive=sensitive)
            small = (pl.col("count") > 0) & (pl.col("count") < rules.min_cell)
            protected = protected.with_columns(
                pl.when(pl.Series(sensitive) & (pl.col("status") == "primary") & ~small)
                .then(pl.lit(DIFFERENCING))
                .otherwise(pl.col("status"))
                .alias("status")
            )
            published = _publish(protected, rules.rounding_base)
    return ProtectedTable(spec, protected, published)


def _publish(protected: pl.DataFrame, rounding_base: int | None) -> pl.DataFrame:
    """What leaves the node: published counts (rounded if asked); hidden cells say only
    ``suppressed`` (which cells were the small ones is itself disclosive)."""
    view = published_view(protected)
    if rounding_base:
        view = view.with_columns(round_counts(view["count"], rounding_base).alias("count"))
    return view.with_columns(pl.col("count").cast(pl.Int64))


def run_release(
    session: Session,
    plan: ReleasePlan,
    *,
    actor: str,
    audit: AuditTrail,
    now: datetime | None = None,
) -> Release:
    """Store the plan as a release (or as a refusal, with its reasons) and audit it."""
    moment = now or datetime.now(UTC)
    agreement = plan.stored.agreement
    status = RELEASED if plan.allowed else REFUSED
    row = Release(
        id=plan.release_id,
        agreement_id=agreement.id,
        agreement_version=agreement.version,
        provider=agreement.provider,
        period=plan.period.label,
        period_start=plan.period.start,
        period_end=plan.period.end,
        status=status,
        decision=plan.decision.to_list(),
        risk_report=plan.risk_report,
        method=plan.method,
        epsilon=plan.epsilon if status == RELEASED else None,
        budget_period=plan.budget_period,
        vocabulary_version=plan.vocabulary_version,
        created_by=actor,
        created_at=moment,
    )
    session.add(row)
    session.flush()
    if status == RELEASED:
        session.add_all(
            ReleaseTable(
                release=row.id,
                name=t.spec.name,
                dimensions=list(t.spec.dimensions),
                cells=t.cells,
            )
            for t in plan.tables
        )
        if plan.records is not None:
            session.add(
                ReleaseTable(
                    release=row.id,
                    name=RECORDS_TABLE,
                    dimensions=list(plan.records.frame.columns),
                    cells=plan.records.cells,
                )
            )
            # Consent is checked again, subject by subject, at the moment of release.
            record_disclosures(
                session,
                plan.records,
                organisation=agreement.provider,
                agreement_id=agreement.id,
                recipients=agreement.recipients,
                release_id=row.id,
                at=moment,
            )
    audit.record(
        session,
        actor=actor,
        action=f"release.{status}",
        organisation=agreement.provider,
        purpose=agreement.purpose,
        target=row.id,
        details={
            "agreement": agreement.id,
            "version": agreement.version,
            "period": plan.period.label,
            "tables": [t.spec.name for t in plan.tables]
            + ([RECORDS_TABLE] if plan.records is not None else []),
            "subjects": len(set(plan.records.subjects.values())) if plan.records else None,
            "refusals": plan.decision.refusals,
            "epsilon": row.epsilon,
        },
        at=moment,
    )
    session.flush()
    return row


def get_release(session: Session, release_id: str) -> Release:
    row = session.get(Release, release_id)
    if row is None:
        raise NotFoundError(f"no release {release_id!r} (see `concord release list`)")
    return row


def release_tables(session: Session, release_id: str) -> list[ReleaseTable]:
    return list(
        session.scalars(
            select(ReleaseTable)
            .where(ReleaseTable.release == release_id)
            .order_by(ReleaseTable.name)
        )
    )


def list_releases(session: Session, agreement_id: str | None = None) -> list[Release]:
    query = select(Release).order_by(Release.created_at.desc())
    if agreement_id:
        query = query.where(Release.agreement_id == agreement_id)
    return list(session.scalars(query))


def revoke_release(
    session: Session,
    release_id: str,
    *,
    reason: str,
    actor: str,
    audit: AuditTrail,
    now: datetime | None = None,
) -> Release:
    """Mark a release revoked (its tables stay, so later releases are still compared with
    them: a recipient may have kept a copy). Federation sends the revocation on."""
    row = get_release(session, release_id)
    if row.status != RELEASED:
        raise InputError(f"release {release_id} is {row.status}; only a release can be revoked")
    if not reason.strip():
        raise InputError("say why the release is revoked (--reason)")
    moment = now or datetime.now(UTC)
    row.status = REVOKED
    row.revoked_at = moment
    row.revoked_reason = reason.strip()[:500]
    audit.record(
        session,
        actor=actor,
        action="release.revoked",
        organisation=row.provider,
        target=row.id,
        details={"agreement": row.agreement_id, "period": row.period, "reason": row.revoked_reason},
        at=moment,
    )
    session.flush()
    return row
