"""``concord admin``: organisations, users, roles, purposes, training and API tokens.

``concord admin create`` makes the first administrator of a node; everything else can also be
done on the web administration pages. Every change is written to the audit trail under the
operating-system user who ran the command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine, parse_date
from concord.db import session_scope
from concord.db.models import Organisation, Purpose
from concord.protect import auth, identity, purposes, training
from concord.protect.audit import AuditTrail
from concord.protect.minimisation import minimisation_report

app = typer.Typer(
    help="Organisations, users, roles, purposes, training and API tokens.", no_args_is_help=True
)
org_app = typer.Typer(help="Member organisations of this node.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
purpose_app = typer.Typer(
    help="Purposes, and which organisation holds which.", no_args_is_help=True
)
token_app = typer.Typer(help="Scoped API tokens (shown once, stored hashed).", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(purpose_app, name="purpose")
app.add_typer(token_app, name="token")

PasswordOption = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="CONCORD_NEW_PASSWORD",
        help="The new password (prompted; or CONCORD_NEW_PASSWORD for scripts).",
    ),
]


@contextmanager
def _db() -> Iterator[tuple[Session, AuditTrail, str]]:
    with session_scope(migrated_engine()) as session:
        purposes.ensure_default_purposes(session)
        yield session, audit_trail(), cli_actor()


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="The administrator's username.")],
    org: Annotated[str, typer.Option("--org", help="The node's own organisation id.")],
    org_name: Annotated[str, typer.Option("--org-name", help="Its full name.")] = "",
    password: PasswordOption = "",
) -> None:
    """Create the first administrator (and the node's organisation, if new)."""
    with _db() as (session, audit, actor):
        if session.get(Organisation, org) is None:
            identity.create_organisation(
                session, audit, slug=org, name=org_name or org, actor=actor
            )
        user = identity.create_user(
            session, audit, username=username, password=password, actor=actor, node_admin=True
        )
        identity.grant_role(
            session, audit, user=user, organisation=org, role="administrator", actor=actor
        )
    console.print(
        f"Created node administrator [bold]{username}[/] (administrator of {org}). "
        "Log in at /login; record their training with `concord admin training`."
    )


@org_app.command("add")
def org_add(
    slug: str,
    name: Annotated[str, typer.Option(help="Full name.")] = "",
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code.")] = None,
    kind: Annotated[str | None, typer.Option(help="hotline, helpline, ngo, ...")] = None,
) -> None:
    """Add a member organisation."""
    with _db() as (session, audit, actor):
        identity.create_organisation(
            session, audit, slug=slug, name=name or slug, actor=actor, country=country, kind=kind
        )
    console.print(f"Added organisation [bold]{slug}[/].")


@org_app.command("list")
def org_list() -> None:
    """Organisations and the purposes each holds."""
    with _db() as (session, _audit, _actor):
        table = Table("id", "name", "country", "purposes")
        for org in session.scalars(select(Organisation).order_by(Organisation.slug)):
            held = ", ".join(sorted(purposes.organisation_purposes(session, org.slug)))
            table.add_row(org.slug, org.name, org.country or "", held or "—")
    console.print(table)


@purpose_app.command("list")
def purpose_list() -> None:
    """The purposes registered on this node."""
    with _db() as (session, _audit, _actor):
        table = Table("id", "name", "records", "identifying", "description")
        for p in session.scalars(select(Purpose).order_by(Purpose.slug)):
            table.add_row(
                p.slug,
                p.name,
                "yes" if p.record_level else "no",
                "yes" if p.identifying else "no",
                p.description,
            )
    console.print(table)


@purpose_app.command("add")
def purpose_add(
    slug: str,
    name: Annotated[str, typer.Option(help="Display name.")],
    description: Annotated[str, typer.Option(help="What the purpose covers.")] = "",
    records: Annotated[bool, typer.Option(help="Justifies record-level data.")] = False,
    identifying: Annotated[bool, typer.Option(help="Justifies identifying values.")] = False,
) -> None:
    """Register a new purpose."""
    with _db() as (session, audit, actor):
        purposes.add_purpose(
            session,
            audit,
            slug=slug,
            name=name,
            description=description,
            record_level=records,
            identifying=identifying,
            actor=actor,
        )
    console.print(f"Registered purpose [bold]{slug}[/].")


@purpose_app.command("allow")
def purpose_allow(
    org: Annotated[str, typer.Option("--org")], purpose: Annotated[str, typer.Argument()]
) -> None:
    """Allow an organisation to use data for a purpose."""
    with _db() as (session, audit, actor):
        purposes.allow_purpose(session, audit, organisation=org, purpose=purpose, actor=actor)
    console.print(f"{org} now holds the purpose [bold]{purpose}[/].")


@purpose_app.command("revoke")
def purpose_revoke(
    org: Annotated[str, typer.Option("--org")], purpose: Annotated[str, typer.Argument()]
) -> None:
    """Withdraw a purpose from an organisation."""
    with _db() as (session, audit, actor):
        purposes.revoke_purpose(session, audit, organisation=org, purpose=purpose, actor=actor)
    console.print(f"{org} no longer holds the purpose {purpose}.")


@user_app.command("add")
def user_add(
    username: str,
    org: Annotated[str, typer.Option("--org", help="Organisation of the first role.")],
    role: Annotated[str, typer.Option(help="administrator, data_steward, analyst, ...")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: PasswordOption = "",
) -> None:
    """Add a user with a role in one organisation."""
    with _db() as (session, audit, actor):
        user = identity.create_user(
            session,
            audit,
            username=username,
            password=password,
            actor=actor,
            display_name=name or None,
        )
        identity.grant_role(session, audit, user=user, organisation=org, role=role, actor=actor)
    console.print(f"Added [bold]{username}[/] as {role} of {org}.")


@user_app.command("list")
def user_list(org: Annotated[str | None, typer.Option("--org")] = None) -> None:
    """Users, their roles and whether their training is current."""
    with _db() as (session, _audit, _actor):
        table = Table("user", "roles", "training", "status")
        for u in identity.list_users(session, org):
            roles = "; ".join(f"{o}: {', '.join(r)}" for o, r in sorted(u.roles.items()))
            status = "active" if u.active else "inactive"
            if u.node_admin:
                status += ", node admin"
            if u.demo:
                status += ", DEMO"
            training_text = "current" if u.training_current else "; ".join(u.training)
            table.add_row(u.username, roles or "—", training_text, status)
    console.print(table)


@user_app.command("grant")
def user_grant(
    username: str, org: Annotated[str, typer.Option("--org")], role: Annotated[str, typer.Option()]
) -> None:
    """Give a user a role in an organisation."""
    with _db() as (session, audit, actor):
        user = identity.get_user(session, username)
        identity.grant_role(session, audit, user=user, organisation=org, role=role, actor=actor)
    console.print(f"{username} is now {role} of {org}.")


@user_app.command("revoke")
def user_revoke(
    username: str, org: Annotated[str, typer.Option("--org")], role: Annotated[str, typer.Option()]
) -> None:
    """Take a role away."""
    with _db() as (session, audit, actor):
        user = identity.get_user(session, username)
        identity.revoke_role(session, audit, user=user, organisation=org, role=role, actor=actor)
    console.print(f"{username} is no longer {role} of {org}.")


@user_app.command("deactivate")
def user_deactivate(username: str) -> None:
    """Stop a user from logging in (their history stays in the audit trail)."""
    with _db() as (session, audit, actor):
        identity.set_active(
            session, audit, user=identity.get_user(session, username), active=False, actor=actor
        )
    console.print(f"{username} can no longer log in.")


@user_app.command("password")
def user_password(username: str, password: PasswordOption = "") -> None:
    """Set a new password (also lifts a lockout)."""
    with _db() as (session, audit, actor):
        identity.set_password(
            session,
            audit,
            user=identity.get_user(session, username),
            password=password,
            actor=actor,
        )
    console.print(f"Password of {username} changed.")


@app.command("training")
def training_add(
    username: str,
    course: Annotated[str, typer.Option(help="data_protection or child_safeguarding")],
    issuer: Annotated[str, typer.Option(help="Who gave the training.")],
    completed: Annotated[str, typer.Option(help="Date completed, YYYY-MM-DD.")],
    expires: Annotated[str, typer.Option(help="Date it expires, YYYY-MM-DD.")],
) -> None:
    """Record a completed training (both courses are needed for record-level data)."""
    with _db() as (session, audit, actor):
        user = identity.get_user(session, username)
        training.record_training(
            session,
            audit,
            user_id=user.id,
            course=course,
            issuer=issuer,
            completed_on=parse_date(completed, "--completed"),
            expires_on=parse_date(expires, "--expires"),
            actor=actor,
        )
        status = training.training_status(session, user.id)
    console.print(f"Recorded {course} training for {username}.")
    for line in status.missing:
        console.print(f"[yellow]still missing:[/] {line}")


@token_app.command("create")
def token_create(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[list[str], typer.Option(help="A permission, e.g. aggregate.read; repeat.")],
    purpose: Annotated[str | None, typer.Option(help="Purpose of every request.")] = None,
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
) -> None:
    """Issue an API token for a user; it is printed once and stored only as a hash."""
    with _db() as (session, audit, actor):
        issued = auth.create_token(
            session,
            audit,
            user=identity.get_user(session, username),
            name=name,
            scopes=scope,
            purpose=purpose,
            days=days,
            actor=actor,
        )
    console.print(f"Token {issued.token.id} for {username} (expires in {days} days):")
    console.print(issued.secret, markup=False, highlight=False)
    console.print("[dim]Send it as `Authorization: Bearer <token>`. It cannot be shown again.[/]")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token at once."""
    with _db() as (session, audit, actor):
        auth.revoke_token(session, audit, token_id=token_id, actor=actor)
    console.print(f"Token {token_id} revoked.")


@app.command("minimisation")
def minimisation(
    org: Annotated[str | None, typer.Option("--org", help="One organisation.")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Which identifying fields are held, for which purpose, since when, by whom."""
    with _db() as (session, _audit, _actor):
        report = minimisation_report(session, [org] if org else None)
    if output == "json":
        console.print_json(data=report.to_dict())
        return
    table = Table("organisation", "field", "purpose", "values", "since", "stored by")
    for held in report.held:
        table.add_row(
            held.organisation,
            held.field,
            held.purpose,
            f"{held.values:,}",
            held.since.strftime("%Y-%m-%d"),
            ", ".join(held.stored_by),
        )
    console.print(table if report.held else "No identifying values are held.")
    for name, count in report.subject_pseudonyms.items():
        console.print(f"{name}: {count:,} records carry a subject pseudonym")
