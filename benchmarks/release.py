"""Release benchmark: plan and run an aggregate release over 10,000,000 records, against DuckDB.

    uv run python benchmarks/release.py [--rows 10000000] [--repeat 3]

Builds the synthetic record frame of ``benchmarks/indicators.py`` (one provider's records;
realistic countries, abuse types, age bands and four years of months), an in-force agreement in
a temporary SQLite node, and times in the same run:

* **DuckDB GROUP BY** — the same counts (country × abuse type × age band × month, abuse types
  unnested) on a table loaded from the same data, rows fetched: the floor;
* **Concord plan** — policy decision, aggregation, the cube with every margin, primary and
  secondary suppression with the exact audit, risk report;
* **Concord plan + run** — the above, then storing the release and its table.

Targets (issue 5): plan + run under 2 s and within 5× of the bare GROUP BY on 2 cores.
Ratios are computed within this run only; never compare figures across machines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from concord.db import create_db_engine, session_scope, upgrade_database
from concord.indicators.definitions import default_registry
from concord.protect import identity, purposes, training
from concord.protect.audit import AuditTrail
from concord.share import Agreement, approve, import_agreement
from concord.share.release import ReleaseRequest, plan_release, run_release
from concord.vocab.loader import shipped_vocabulary
from indicators import build_frame

PROVIDER, HUB = "hotline-es", "regional-hub"
DIMS = ["country", "abuse_type", "victim_age_band", "month"]
PERIOD = "2023-01..2026-12"
TARGET_SECONDS, TARGET_RATIO = 2.0, 5.0


def node(folder: Path) -> tuple[object, AuditTrail]:
    """A SQLite node with both parties, a trained steward and the agreement in force."""
    engine = create_db_engine(f"sqlite:///{folder / 'node.db'}")
    upgrade_database(engine)
    audit = AuditTrail(b"benchmark-audit-key-32-bytes....")
    agreement = Agreement.model_validate(
        {
            "id": "bench",
            "version": 1,
            "title": "Benchmark",
            "provider": PROVIDER,
            "recipients": [HUB],
            "purpose": "statistics",
            "legal_basis": "Benchmark.",
            "shares": {"indicators": ["reports.abuse_type"], "dimensions": DIMS},
            "level": "aggregate",
            "frequency": "ad_hoc",
            "valid_from": date(2023, 1, 1),
            "valid_to": date(2027, 12, 31),
            "marking": "AMBER",
            "onward_sharing": "none",
            "consent_required": False,
        }
    )
    with session_scope(engine) as session:
        purposes.ensure_default_purposes(session)
        for org in (PROVIDER, HUB):
            identity.create_organisation(session, audit, slug=org, name=org, actor="bench")
            purposes.allow_purpose(
                session, audit, organisation=org, purpose="statistics", actor="bench"
            )
        for name, org, role in (
            ("admin-es", PROVIDER, "administrator"),
            ("admin-hub", HUB, "administrator"),
            ("steward", PROVIDER, "data_steward"),
        ):
            user = identity.create_user(
                session,
                audit,
                username=name,
                password="bench-only-password-1",  # noqa: S106
                actor="bench",
            )
            identity.grant_role(
                session, audit, user=user, organisation=org, role=role, actor="bench"
            )
            for course in ("data_protection", "child_safeguarding"):
                training.record_training(
                    session,
                    audit,
                    user_id=user.id,
                    course=course,
                    issuer="Bench",
                    completed_on=date(2026, 1, 1),
                    expires_on=date(2030, 1, 1),
                    actor="bench",
                )
        import_agreement(session, audit, agreement, actor="bench")
        for org, admin in ((PROVIDER, "admin-es"), (HUB, "admin-hub")):
            approve(
                session,
                audit,
                agreement_id="bench",
                version=1,
                organisation=org,
                approver_username=admin,
            )
    return engine, audit


def duckdb_group_by(frame: pl.DataFrame, repeat: int) -> tuple[float, int]:
    """The bare GROUP BY on a DuckDB table loaded (untimed) from the same data; best time."""
    import duckdb

    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.parquet"
        frame.select("country", "abuse_types", "victim_age_band", "received_date").write_parquet(
            path
        )
        con.execute("CREATE TABLE records AS SELECT * FROM read_parquet(?)", [str(path)])
    sql = """
        SELECT country, abuse_type, victim_age_band, strftime(received_date, '%Y-%m') AS month,
               count(*) AS n
        FROM (SELECT country, unnest(abuse_types) AS abuse_type, victim_age_band, received_date
              FROM records)
        GROUP BY ALL
    """
    times, cells = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        cells = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - start)
    return min(times), cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"Building {args.rows:,} synthetic records ...", flush=True)
    frame = build_frame(args.rows, seed=7).with_columns(
        pl.lit(PROVIDER).cast(pl.Categorical).alias("source_org")
    )
    vocabulary = shipped_vocabulary()
    duck_best, duck_cells = duckdb_group_by(frame, args.repeat)
    plans, runs = [], []
    with tempfile.TemporaryDirectory() as folder:
        engine, audit = node(Path(folder))
        request = ReleaseRequest("bench", PERIOD, (f"reports.abuse_type:{','.join(DIMS)}",))
        for _ in range(args.repeat):
            with session_scope(engine) as session:
                registry = default_registry(None, vocabulary, session)
                steward = identity.get_user(session, "steward")
                who = identity.load_principal(session, steward)
                start = time.perf_counter()
                plan = plan_release(
                    session,
                    request,
                    principal=who,
                    vocabulary=vocabulary,
                    registry=registry,
                    frame=frame,
                    today=date(2027, 1, 15),
                )
                planned = time.perf_counter()
                run_release(session, plan, actor="steward", audit=audit)
                session.flush()
                done = time.perf_counter()
                session.rollback()  # each repeat is a first release (no differencing history)
            assert plan.allowed, plan.decision.refusals
            plans.append(planned - start)
            runs.append(done - start)
    table = plan.tables[0]
    statuses = dict(table.protected.group_by("status").len().iter_rows())
    best_run = min(runs)
    print(f"\n| step ({args.rows:,} records, best of {args.repeat}) | seconds | × DuckDB |")
    print("|---|---|---|")
    print(f"| DuckDB GROUP BY, {duck_cells:,} cells fetched | {duck_best:.2f} | 1.0× |")
    print(
        f"| Concord plan (decision, cube, suppression, risk report) | {min(plans):.2f} | "
        f"{min(plans) / duck_best:.1f}× |"
    )
    print(f"| Concord plan + run (stored) | {best_run:.2f} | {best_run / duck_best:.1f}× |")
    print(f"\nCube: {table.protected.height:,} cells with margins; by status: {statuses}")
    print(
        f"Under {TARGET_SECONDS:.0f} s: {'yes' if best_run < TARGET_SECONDS else 'NO'}; "
        f"within {TARGET_RATIO:.0f}× of DuckDB: "
        f"{'yes' if best_run / duck_best <= TARGET_RATIO else 'NO'}"
    )


if __name__ == "__main__":
    main()
