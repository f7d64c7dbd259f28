"""What the agreement and release page tests share: fresh parties, agreements put in force
through the registry, and a few synthetic records stored for a provider."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

from sqlalchemy import Engine

from concord.db import session_scope
from concord.db.models import Record
from concord.share import Agreement, dump_agreement
from concord.share.periods import period_containing
from tests.protect.factories import ingest_batch
from tests.share.release_setup import agreement, approved
from tests.web.logins import create_user

JSON = {"accept": "application/json"}
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


@dataclass(frozen=True)
class Parties:
    """A provider and a hub (each with an administrator), and an organisation outside."""

    provider: str
    hub: str
    outsider: str
    provider_admin: str
    hub_admin: str

    def agreement(self, **changes: Any) -> Agreement:
        """The test agreement between these parties, under an id of its own."""
        body: dict[str, Any] = {
            "id": f"{self.provider}-to-hub",
            "provider": self.provider,
            "recipients": [self.hub],
        }
        return agreement(**(body | changes))


def parties(engine: Engine) -> Parties:
    tag = uuid.uuid4().hex[:6]
    provider, hub, outsider = f"prov-{tag}", f"hub-{tag}", f"out-{tag}"
    create_user(engine, {outsider: ["viewer"]})
    return Parties(
        provider,
        hub,
        outsider,
        create_user(engine, {provider: ["administrator"]}),
        create_user(engine, {hub: ["administrator"]}),
    )


def store(engine: Engine, agreed: Agreement, *, approvers: dict[str, str] | None = None) -> None:
    """Import ``agreed`` as a draft; each ``organisation: admin`` of ``approvers`` approves it."""
    with session_scope(engine) as session:
        approved(session, agreed, approvers or {})


def in_force(engine: Engine, p: Parties, agreed: Agreement) -> None:
    store(engine, agreed, approvers={p.provider: p.provider_admin, p.hub: p.hub_admin})


def yaml_of(agreed: Agreement) -> str:
    return dump_agreement(agreed)


def quarters(today: date | None = None) -> tuple[str, str, date]:
    """The quarter now (not over) and the last complete one, with a day inside the latter."""
    day = today or datetime.now(UTC).date()
    current = period_containing(day, "quarter")
    last = period_containing(current.start - timedelta(days=1), "quarter")
    return current.label, last.label, last.start + timedelta(days=20)


def add_records(engine: Engine, org: str, received: date, counts: dict[str, int]) -> None:
    """``counts`` records per country for ``org``, received on ``received``."""
    with session_scope(engine) as session:
        batch = ingest_batch(session, org)
        session.add_all(
            Record(
                batch_id=batch.id,
                source_org=org,
                source_key=uuid.uuid4().hex,
                received_date=received,
                country=country,
            )
            for country, count in counts.items()
            for _ in range(count)
        )


def post_forms_without_csrf(html: str) -> list[str]:
    """POST forms of a rendered page that do not carry a non-empty CSRF token."""
    return [
        form[:80]
        for form in FORM.findall(html)
        if 'method="post"' in form.split(">", 1)[0].lower()
        and not re.search(r'name="csrf_token" value="[^"]+"', form)
    ]


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return unescape(found[1])
