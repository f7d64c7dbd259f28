"""The authorization matrix: every route × every role × own/other organisation × training.

Each route is listed below with the permission it needs and the organisation whose data it
touches. The test walks all of them for every combination and fails on any access the policy
refuses (and on any refusal the policy would allow), and a second test fails when a route exists
that this table does not list — a new route cannot slip in ungated.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from concord.config import Settings
from concord.db import session_scope
from concord.db.models import ProtectedValue, QuarantinedRow, Record, Release, User
from concord.ingest.jobs import Job
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect import consent
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.identity import load_principal
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.protect.roles import Permission, Role
from concord.share import Agreement, dump_agreement, import_agreement
from concord.vocab.model import Vocabulary
from concord.web.app import create_app
from tests.conftest import BACKENDS, fresh_engine
from tests.protect.factories import audit_trail, organisation
from tests.web.logins import create_user, sign_in

OWN, OTHER = "org-own", "org-other"
PURPOSES = ("case_management", "data_quality", "research", "statistics", "oversight")
PURPOSE_OF_ROLE = {
    Role.CASEWORKER: "case_management",
    Role.DATA_STEWARD: "data_quality",
    Role.ANALYST: "research",
    Role.AUDITOR: "oversight",
}
SPEC = """
source: {org}
version: 1
reader: {{format: csv}}
identifying: [name]
keep: {{name: case_management}}
fields:
  source_record_key: {{column: id}}
  received_date: {{column: received, date_format: "%Y-%m-%d"}}
"""
CSV = b"id,received,name\nA1,2026-02-01,Noor\nA2,2026-02-02,\nA3,yesterday,Sam\n"

PUBLIC = "public"
LOGGED_IN = "logged in"
NODE_ADMIN = "node admin"


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # the route template, as FastAPI lists it
    need: Permission | str  # a permission, or PUBLIC / LOGGED_IN / NODE_ADMIN
    scoped: bool  # True: touches the target organisation; False: "anywhere" (lists, forms)
    request: Callable[[World, str], dict[str, Any]]  # → kwargs for TestClient.request
    also: Permission | None = None  # a second permission the route needs
    either: Permission | None = None  # a permission that serves instead of ``need``


@dataclass
class World:
    batch: dict[str, int]
    record: dict[str, int]
    job: dict[str, str]
    member: dict[str, str]
    consent: dict[str, int]
    harm: dict[str, int]
    agreement: dict[str, str] = field(default_factory=dict)  # one draft, provided by the org
    release: dict[str, str] = field(default_factory=dict)  # one release under it


def _get(url: str) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, t: {"method": "GET", "url": url.format(t=t, **_ids(w, t))}


def _post(url: str, **form: str) -> Callable[[World, str], dict[str, Any]]:
    def build(w: World, t: str) -> dict[str, Any]:
        data = {k: v.format(t=t, **_ids(w, t)) for k, v in form.items()}
        return {"method": "POST", "url": url.format(t=t, **_ids(w, t)), "data": data}

    return build


def _upload(url: str) -> Callable[[World, str], dict[str, Any]]:
    return lambda w, t: {
        "method": "POST",
        "url": url.format(t=t, **_ids(w, t)),
        "data": {"mapping": t},
        "files": {"file": ("reports.csv", CSV)},
    }


SUBJECT = "ab" * 32  # a subject pseudonym (the same hex in both organisations)


def _ids(w: World, t: str) -> dict[str, Any]:
    return {
        "batch": w.batch[t],
        "record": w.record[t],
        "job": w.job[t],
        "member": w.member[t],
        "consent": w.consent[t],
        "harm": w.harm[t],
        "agreement": w.agreement.get(t, ""),
        "release": w.release.get(t, ""),
        "subject": SUBJECT,
    }


P = Permission
CALLS: list[Call] = [
    Call("GET", "/", PUBLIC, False, _get("/")),
    Call("GET", "/api/health", PUBLIC, False, _get("/api/health")),
    Call("GET", "/vocab", PUBLIC, False, _get("/vocab")),
    Call("GET", "/vocab/{concept_id}", PUBLIC, False, _get("/vocab/abuse.grooming")),
    Call("GET", "/api/vocab/schemes", PUBLIC, False, _get("/api/vocab/schemes")),
    Call("GET", "/api/vocab/concepts", PUBLIC, False, _get("/api/vocab/concepts?q=grooming")),
    Call(
        "GET",
        "/api/vocab/concepts/{concept_id}",
        PUBLIC,
        False,
        _get("/api/vocab/concepts/abuse.grooming"),
    ),
    Call("GET", "/api/vocab/export/{format_name}", PUBLIC, False, _get("/api/vocab/export/json")),
    Call(
        "POST",
        "/api/crosswalks/check",
        PUBLIC,
        False,
        lambda w, t: {
            "method": "POST",
            "url": "/api/crosswalks/check",
            "json": {"crosswalk": "organisation: x\nmappings: {}\n"},
        },
    ),
    Call(
        "POST",
        "/api/lint",
        PUBLIC,
        False,
        lambda w, t: {"method": "POST", "url": "/api/lint", "json": {"text": "hello"}},
    ),
    Call("GET", "/lint", PUBLIC, False, _get("/lint")),
    Call("POST", "/lint", PUBLIC, False, _post("/lint", text="hello")),
    Call("GET", "/login", PUBLIC, False, _get("/login")),
    Call("GET", "/purpose", LOGGED_IN, False, _get("/purpose")),
    Call("GET", "/me", LOGGED_IN, False, _get("/me")),
    Call("GET", "/api/batches", P.BATCH_READ, True, _get("/api/batches?org={t}")),
    Call("GET", "/api/batches/{batch_id}", P.BATCH_READ, True, _get("/api/batches/{batch}")),
    Call("GET", "/api/quarantine", P.QUARANTINE_MANAGE, True, _get("/api/quarantine?org={t}")),
    Call("GET", "/api/records", P.RECORD_READ, True, _get("/api/records?org={t}")),
    Call("GET", "/api/imports/mappings", P.INGEST, False, _get("/api/imports/mappings")),
    Call("POST", "/api/imports", P.INGEST, True, _upload("/api/imports")),
    Call("GET", "/api/imports/{job_id}", P.INGEST, True, _get("/api/imports/{job}")),
    Call("GET", "/upload", P.INGEST, False, _get("/upload")),
    Call("POST", "/upload", P.INGEST, True, _upload("/upload")),
    Call(
        "POST",
        "/upload/{upload_id}/import",
        P.INGEST,
        True,
        _post("/upload/" + "0" * 32 + "/import", mapping="{t}"),
    ),
    Call("GET", "/jobs/{job_id}", P.INGEST, True, _get("/jobs/{job}")),
    Call("GET", "/batches", P.BATCH_READ, True, _get("/batches?org={t}")),
    Call("GET", "/batches/{batch_id}", P.BATCH_READ, True, _get("/batches/{batch}")),
    Call("GET", "/quarantine", P.QUARANTINE_MANAGE, True, _get("/quarantine?org={t}")),
    Call(
        "GET",
        "/quarantine/export.csv",
        P.QUARANTINE_MANAGE,
        True,
        _get("/quarantine/export.csv?org={t}"),
    ),
    Call(
        "POST",
        "/quarantine/resubmit",
        P.QUARANTINE_MANAGE,
        True,
        _upload("/quarantine/resubmit"),
        also=P.INGEST,
    ),
    Call("GET", "/records", P.RECORD_READ, True, _get("/records?org={t}")),
    Call("GET", "/records/{record_id}", P.RECORD_READ, True, _get("/records/{record}")),
    Call(
        "POST",
        "/records/{record_id}/reveal",
        P.IDENTIFYING_READ,
        True,
        _post("/records/{record}/reveal", field="name"),
    ),
    Call("GET", "/admin", P.ORG_ADMIN, False, _get("/admin")),
    Call(
        "POST",
        "/admin/organisations",
        NODE_ADMIN,
        False,
        _post("/admin/organisations", slug="made-here", name="Made here"),
    ),
    Call("GET", "/admin/organisations/{org}", P.ORG_ADMIN, True, _get("/admin/organisations/{t}")),
    Call(
        "POST",
        "/admin/organisations/{org}/users",
        P.ORG_ADMIN,
        True,
        lambda w, t: {
            "method": "POST",
            "url": f"/admin/organisations/{t}/users",
            "data": {
                "username": f"n-{uuid.uuid4().hex[:8]}",
                "role": "viewer",
                "password": "a long pass phrase 42",
            },
        },
    ),
    Call(
        "POST",
        "/admin/organisations/{org}/roles",
        P.ORG_ADMIN,
        True,
        _post("/admin/organisations/{t}/roles", username="{member}", role="viewer"),
    ),
    Call(
        "POST",
        "/admin/organisations/{org}/training",
        P.ORG_ADMIN,
        True,
        _post(
            "/admin/organisations/{t}/training",
            username="{member}",
            course="data_protection",
            issuer="Academy",
            completed_on="2026-01-01",
            expires_on="2027-01-01",
        ),
    ),
    Call(
        "POST",
        "/admin/organisations/{org}/users/{username}/deactivate",
        P.ORG_ADMIN,
        True,
        _post("/admin/organisations/{t}/users/{member}/deactivate"),
    ),
    Call(
        "POST",
        "/admin/organisations/{org}/purposes",
        NODE_ADMIN,
        True,
        _post("/admin/organisations/{t}/purposes", purpose="research"),
    ),
    Call("GET", "/audit", P.AUDIT_READ, True, _get("/audit?org={t}")),
    Call("GET", "/audit/export.{fmt}", P.AUDIT_READ, True, _get("/audit/export.csv?org={t}")),
    Call("GET", "/minimisation", P.MINIMISATION_READ, False, _get("/minimisation")),
    Call("GET", "/api/me", LOGGED_IN, False, _get("/api/me")),
    Call("GET", "/indicators", P.AGGREGATE_READ, False, _get("/indicators")),
    Call("GET", "/indicators/alerts", P.AGGREGATE_READ, False, _get("/indicators/alerts")),
    Call("POST", "/indicators/alerts/run", P.BATCH_READ, False, _post("/indicators/alerts/run")),
    Call(
        "POST",
        "/indicators/alerts/{alert_id}/acknowledge",
        P.BATCH_READ,
        False,
        _post("/indicators/alerts/999999/acknowledge"),
    ),
    Call(
        "GET",
        "/indicators/{indicator_id}",
        P.AGGREGATE_READ,
        False,
        _get("/indicators/reports.total"),
    ),
    Call(
        "GET",
        "/indicators/{indicator_id}/chart.{fmt}",
        P.AGGREGATE_READ,
        False,
        _get("/indicators/reports.total/chart.svg"),
    ),
    Call(
        "GET",
        "/indicators/{indicator_id}/data.{fmt}",
        P.AGGREGATE_READ,
        False,
        _get("/indicators/reports.total/data.csv"),
    ),
    Call("GET", "/api/indicators", P.AGGREGATE_READ, False, _get("/api/indicators")),
    Call(
        "POST",
        "/api/indicators",
        P.BATCH_READ,
        False,
        lambda w, t: {"method": "POST", "url": "/api/indicators", "content": "id: [broken"},
    ),
    Call(
        "POST",
        "/indicators/definitions",
        P.BATCH_READ,
        False,
        _post("/indicators/definitions", definition="id: [broken"),
    ),
    Call("GET", "/api/indicators/alerts", P.AGGREGATE_READ, False, _get("/api/indicators/alerts")),
    Call(
        "GET",
        "/api/indicators/{indicator_id}",
        P.AGGREGATE_READ,
        False,
        _get("/api/indicators/reports.total"),
    ),
    Call("GET", "/api/audit", P.AUDIT_READ, True, _get("/api/audit?org={t}")),
    Call(
        "GET",
        "/api/consent/{org}/{subject_key}",
        P.CONSENT_READ,
        True,
        _get("/api/consent/{t}/{subject}"),
    ),
    Call(
        "GET",
        "/api/consent/{org}/{subject_key}/check",
        P.CONSENT_READ,
        True,
        _get("/api/consent/{t}/{subject}/check?scope=referral"),
    ),
    Call("GET", "/consent", P.CONSENT_READ, False, _get("/consent")),
    Call(
        "POST",
        "/consent/lookup",
        P.CONSENT_READ,
        True,
        _post("/consent/lookup", org="{t}", subject="CHILD-1"),
    ),
    Call(
        "GET", "/consent/{org}/{subject_key}", P.CONSENT_READ, True, _get("/consent/{t}/{subject}")
    ),
    Call(
        "POST",
        "/consent/{org}/{subject_key}/assess",
        P.CONSENT_WRITE,
        True,
        _post("/consent/{t}/{subject}/assess", outcome="not_capable"),
    ),
    Call(
        "POST",
        "/consent/{org}/{subject_key}/record",
        P.CONSENT_WRITE,
        True,
        _post(
            "/consent/{t}/{subject}/record",
            party="caregiver",
            status="given",
            scopes="referral",
            evidence_ref="F-1",
        ),
    ),
    Call(
        "POST",
        "/consent/{org}/{subject_key}/withdraw",
        P.CONSENT_WRITE,
        True,
        _post("/consent/{t}/{subject}/withdraw", consent_id="{consent}"),
    ),
    Call(
        "POST",
        "/consent/{org}/{subject_key}/harm",
        P.CONSENT_WRITE,
        True,
        _post(
            "/consent/{t}/{subject}/harm",
            justification="risk",
            review_on="2099-01-01",
            scopes="referral",
        ),
    ),
    Call(
        "POST",
        "/consent/{org}/{subject_key}/harm/{exception_id}/{action}",
        P.CONSENT_WRITE,
        True,
        _post("/consent/{t}/{subject}/harm/{harm}/approve"),
    ),
    Call("GET", "/agreements", P.RELEASE_READ, False, _get("/agreements"), either=P.ORG_ADMIN),
    Call(
        "GET",
        "/agreements/new",
        P.ORG_ADMIN,
        False,
        _get("/agreements/new"),
        either=P.RELEASE_WRITE,
    ),
    Call(
        "POST",
        "/agreements",
        P.ORG_ADMIN,
        True,
        lambda w, t: {"method": "POST", "url": "/agreements", "data": {"text": _agreement_text(t)}},
        either=P.RELEASE_WRITE,
    ),
    Call(
        "GET",
        "/agreements/{agreement_id}",
        P.RELEASE_READ,
        True,
        _get("/agreements/{agreement}"),
        either=P.ORG_ADMIN,
    ),
    Call(
        "GET",
        "/agreements/{agreement_id}/edit",
        P.ORG_ADMIN,
        True,
        _get("/agreements/{agreement}/edit"),
        either=P.RELEASE_WRITE,
    ),
    Call(
        "GET",
        "/agreements/{agreement_id}/v{version}.yaml",
        P.RELEASE_READ,
        True,
        _get("/agreements/{agreement}/v1.yaml"),
        either=P.ORG_ADMIN,
    ),
    Call(
        "POST",
        "/agreements/{agreement_id}/v{version}/approve",
        P.ORG_ADMIN,
        True,
        _post("/agreements/{agreement}/v1/approve"),
    ),
    Call("GET", "/releases", P.RELEASE_READ, False, _get("/releases")),
    Call(
        "GET",
        "/releases/plan",
        P.RELEASE_READ,
        True,
        _get("/releases/plan?agreement={agreement}&period=2026-Q1"),
    ),
    Call(
        "POST",
        "/releases",
        P.RELEASE_WRITE,
        True,
        _post("/releases", agreement="{agreement}", period="2026-Q1"),
    ),
    Call("GET", "/releases/{release_id}", P.RELEASE_READ, True, _get("/releases/{release}")),
    Call(
        "POST",
        "/releases/{release_id}/revoke",
        P.RELEASE_WRITE,
        True,
        _post("/releases/{release}/revoke", reason="matrix"),
    ),
    Call("GET", "/api/releases", P.RELEASE_READ, False, _get("/api/releases")),
    Call(
        "GET", "/api/releases/{release_id}", P.RELEASE_READ, True, _get("/api/releases/{release}")
    ),
    # Pushes from other nodes: authenticated by their signature, not a user (this node is no
    # hub in the matrix, so they answer 404).
    Call(
        "POST",
        "/api/federation/bundles",
        PUBLIC,
        False,
        lambda w, t: {"method": "POST", "url": "/api/federation/bundles", "content": b"no zip"},
    ),
    Call(
        "POST",
        "/api/federation/revocations",
        PUBLIC,
        False,
        lambda w, t: {"method": "POST", "url": "/api/federation/revocations", "content": b"{}"},
    ),
    Call(
        "GET", "/federation", P.RELEASE_READ, False, _get("/federation"), either=P.FEDERATION_MANAGE
    ),
    Call("GET", "/federation/regional", P.RELEASE_READ, False, _get("/federation/regional")),
]
#: Routes that change who is logged in; exercised by the login tests, not the matrix.
SESSION_ROUTES = {("POST", "/login"), ("POST", "/logout"), ("POST", "/purpose")}
#: Routes whose organisation is the hub itself (CONCORD_NODE_ID), not a target organisation;
#: exercised by tests/web/test_federation_api.py, not the matrix.
HUB_ROUTES = {("POST", "/federation/nodes"), ("POST", "/federation/nodes/{node_id}/remove")}


def _agreement_text(org: str) -> str:
    """A new agreement ``org`` provides (the same text each time: re-importing is a no-op)."""
    return dump_agreement(_agreement(org, f"{org}-drafted"))


def _agreement(org: str, agreement_id: str) -> Agreement:
    return Agreement.model_validate(
        {
            "id": agreement_id,
            "version": 1,
            "title": f"{org} to the hub",
            "provider": org,
            "recipients": ["org-hub"],
            "purpose": "statistics",
            "legal_basis": "A test.",
            "shares": {"indicators": ["reports.total"], "dimensions": ["country"]},
            "level": "aggregate",
            "frequency": "quarterly",
            "valid_from": "2026-01-01",
            "valid_to": "2027-12-31",
            "marking": "AMBER",
            "onward_sharing": "none",
            "consent_required": False,
        }
    )


def _sharing(engine: Engine, org: str) -> tuple[str, str]:
    """A draft agreement ``org`` provides, and a release stored under it: their ids."""
    agreed = _agreement(org, f"{org}-to-hub")
    release_id = str(uuid.uuid4())
    with session_scope(engine) as session:
        import_agreement(session, audit_trail(), agreed, actor="seed")
        session.add(
            Release(
                id=release_id,
                agreement_id=agreed.id,
                agreement_version=1,
                provider=org,
                period="2026-Q1",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 3, 31),
                status="released",
                decision=[],
                risk_report={"tables": [], "reliability": [], "context": {}},
                method={},
                vocabulary_version="test",
                created_by="seed",
                created_at=datetime.now(UTC),
            )
        )
    return agreed.id, release_id


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    stack: list[tuple[str, Any]] = [("", route) for route in app.routes]
    while stack:
        prefix, route = stack.pop()
        if isinstance(route, APIRoute):
            found |= {(m, prefix + route.path) for m in route.methods}
        elif hasattr(route, "original_router"):
            inner = prefix + route.include_context.prefix
            stack.extend((inner, r) for r in route.original_router.routes)
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    vocabulary: Vocabulary,
) -> Iterator[tuple[TestClient, Engine, World]]:
    folder = tmp_path_factory.mktemp("matrix")
    engine = fresh_engine(request.param, folder, "authz_matrix")
    keys = folder / "keys"
    mappings = folder / "mappings"
    mappings.mkdir()
    world = World({}, {}, {}, {}, {}, {})
    for org in (OWN, OTHER):
        with session_scope(engine) as session:
            organisation(session, org, holds=PURPOSES)
        spec = mappings / f"{org}.mapping.yaml"
        spec.write_text(SPEC.format(org=org), encoding="utf-8")
        data = folder / f"{org}.csv"
        data.write_bytes(CSV)
        report = ingest_file(
            engine,
            data,
            load_mapping(spec),
            vocabulary,
            keys=PseudonymKeys(keys),
            cipher=FieldCipher(Keyring(keys)),
        )
        world.batch[org] = report.batch_id
        with session_scope(engine) as session:
            world.record[org] = session.scalars(
                select(ProtectedValue.record_id).where(ProtectedValue.organisation == org)
            ).one()
            assert (
                session.scalars(
                    select(QuarantinedRow).where(QuarantinedRow.source_org == org)
                ).first()
                is not None
            )
            assert session.scalars(select(Record)).first() is not None
        world.member[org] = create_user(engine, {org: ["viewer"]})
        with session_scope(engine) as session:
            trail = audit_trail()
            world.consent[org] = consent.record_consent(
                session,
                trail,
                organisation=org,
                subject_key=SUBJECT,
                party="caregiver",
                status="given",
                scopes=["case_management"],
                evidence_ref="F-0",
                recorded_by="seed",
            ).id
            world.harm[org] = consent.request_harm_exception(
                session,
                trail,
                organisation=org,
                subject_key=SUBJECT,
                scopes=["referral"],
                justification="risk",
                requested_by="seed",
                review_on=datetime.now(UTC).date() + timedelta(days=30),
            ).id
        world.agreement[org], world.release[org] = _sharing(engine, org)
    settings = Settings(
        database_url=str(engine.url),
        key_dir=keys,
        mapping_dir=mappings,
        upload_dir=folder / "uploads",
    )
    app = create_app(settings, engine=engine)
    for org in (OWN, OTHER):
        job = Job(id=uuid.uuid4().hex, label=f"{org}.csv", state="failed", error="stopped")
        job.extra["organisation"] = org
        app.state.jobs._jobs[job.id] = job  # a finished import of each organisation
        world.job[org] = job.id
    with TestClient(app) as client:
        yield client, engine, world
    engine.dispose()


def test_every_route_is_in_the_matrix(world: tuple[TestClient, Engine, World]) -> None:
    client, _, _ = world
    listed = {(c.method, c.path) for c in CALLS} | SESSION_ROUTES | HUB_ROUTES
    routes = {r for r in app_routes(client.app) if r[0] != "HEAD"}  # type: ignore[arg-type]
    assert routes - listed == set(), "add these routes to the authorization matrix"
    assert listed - routes == set(), "the matrix lists routes that no longer exist"


def _expected(call: Call, engine: Engine, username: str, target: str) -> bool:
    if call.need == PUBLIC:
        return True
    with session_scope(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        from concord.web.auth import SESSION_COOKIE  # noqa: F401 - documents the session path

        principal = load_principal(session, user, purpose=_session_purpose(session, user.id))
    if call.need == LOGGED_IN:
        return True
    if call.need == NODE_ADMIN:
        return principal.node_admin and principal.can(Permission.ORG_ADMIN, target)
    assert isinstance(call.need, Permission)

    def holds(permission: Permission) -> bool:
        if call.scoped:
            return principal.can(permission, target)
        return bool(principal.organisations_with(permission))

    alternatives = [call.need] + ([call.either] if call.either else [])
    return any(holds(p) for p in alternatives) and (call.also is None or holds(call.also))


def _session_purpose(session: Any, user_id: int) -> str | None:
    from concord.db.models import UserSession

    return session.scalars(
        select(UserSession.purpose).where(UserSession.user_id == user_id)
    ).first()


@pytest.mark.parametrize("trained", [True, False], ids=["trained", "untrained"])
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_matrix(world: tuple[TestClient, Engine, World], role: Role, trained: bool) -> None:
    client, engine, state = world
    sign_in(
        client,
        engine,
        {OWN: [role.value]},
        purpose=PURPOSE_OF_ROLE.get(role, "statistics"),
        trained=trained,
    )
    with session_scope(engine) as session:
        username = session.scalars(select(User.username).order_by(User.id.desc())).first()
    assert username is not None
    wrong: list[str] = []
    for call in CALLS:
        for target in (OWN, OTHER):
            if not call.scoped and target == OTHER:
                continue
            expected = _expected(call, engine, username, target)
            kwargs = call.request(state, target)
            response = client.request(headers={"accept": "application/json"}, **kwargs)
            refused = response.status_code in (401, 403)
            if refused == expected or response.status_code >= 500:
                wrong.append(
                    f"{call.method} {kwargs['url']} as {role.value} "
                    f"({'trained' if trained else 'untrained'}) on {target}: expected "
                    f"{'allowed' if expected else 'refused'}, got {response.status_code} "
                    f"{response.text[:160]}"
                )
    assert not wrong, "\n".join(wrong)


def test_anonymous_requests_are_refused_everywhere_but_public_routes(
    world: tuple[TestClient, Engine, World],
) -> None:
    client, _, state = world
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    for call in CALLS:
        kwargs = call.request(state, OWN)
        status = client.request(headers={"accept": "application/json"}, **kwargs).status_code
        if call.need == PUBLIC:
            assert status not in (401, 403), kwargs["url"]
        else:
            assert status == 401, f"{kwargs['url']}: {status}"


def test_a_node_admin_may_create_organisations_and_change_purposes(
    world: tuple[TestClient, Engine, World],
) -> None:
    client, engine, _ = world
    sign_in(client, engine, {OWN: ["administrator"]}, purpose=None, node_admin=True)
    made = client.post(
        "/admin/organisations", data={"slug": f"n-{uuid.uuid4().hex[:6]}", "name": "New"}
    )
    assert made.status_code == 200
    changed = client.post(f"/admin/organisations/{OTHER}/purposes", data={"purpose": "research"})
    assert changed.status_code == 200
    assert client.get("/api/records", headers={"accept": "application/json"}).status_code == 403
