"""No identifying value ever reaches the application logs.

Everything that touches identifying data runs here with every logger at DEBUG and the web
server's access log on — an import that keeps and drops identifying columns, a failed and a
successful login, a consent lookup by the child's own id, a reveal — and the captured log is
searched for each secret.
"""

from __future__ import annotations

import http.cookiejar
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from concord.config import Settings
from concord.db import session_scope
from concord.db.models import ProtectedValue, User, UserSession
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.vocab.model import Vocabulary
from concord.web.app import create_app
from tests.conftest import fresh_engine
from tests.protect.factories import PASSWORD, organisation
from tests.web.browser import free_port
from tests.web.logins import create_user

NAME, PHONE, CHILD = "Noor Secretname", "+33 6 99 98 97 96", "CHILD-SECRET-77"
WRONG_PASSWORD = "wrong-Secret-Pass-1"
SPEC = """
source: helpline-log
version: 1
reader: {format: csv}
identifying: [child, name, phone]
subject: child
keep: {name: case_management}
fields:
  source_record_key: {column: id}
  received_date: {column: received, date_format: "%Y-%m-%d"}
"""


def test_identifying_values_never_reach_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, vocabulary: Vocabulary
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = fresh_engine("sqlite", tmp_path, "logs")
    keys = tmp_path / "keys"
    with session_scope(engine) as session:
        organisation(session, "helpline-log", holds=("case_management",))
    data = tmp_path / "r.csv"
    data.write_text(
        f"id,received,child,name,phone\nL1,2026-03-01,{CHILD},{NAME},{PHONE}\n"
        f"L2,not a date,{CHILD},{NAME},{PHONE}\n",
        encoding="utf-8",
    )
    spec = tmp_path / "r.mapping.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    ingest_file(
        engine,
        data,
        load_mapping(spec),
        vocabulary,
        keys=PseudonymKeys(keys),
        cipher=FieldCipher(Keyring(keys)),
    )
    username = create_user(engine, {"helpline-log": ["caseworker"]})
    with session_scope(engine) as session:
        record_id = session.scalars(select(ProtectedValue.record_id)).one()

    app = create_app(Settings(database_url=str(engine.url), key_dir=keys), engine=engine)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            log_level="debug",
            access_log=True,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def post(path: str, form: dict[str, str], csrf: str = "") -> str:
        body = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(base + path, data=body, method="POST")
        if csrf:
            request.add_header("X-CSRF-Token", csrf)
        try:
            with opener.open(request) as response:
                return str(response.read().decode())
        except urllib.error.HTTPError as exc:
            return str(exc.read().decode())

    try:
        post("/login", {"username": username, "password": WRONG_PASSWORD})
        post("/login", {"username": username, "password": PASSWORD})
        with session_scope(engine) as session:
            user_id = session.scalars(select(User.id).where(User.username == username)).one()
            csrf = session.scalars(
                select(UserSession.csrf_token).where(UserSession.user_id == user_id)
            ).one()
        post("/purpose", {"purpose": "case_management"}, csrf)
        post("/consent/lookup", {"org": "helpline-log", "subject": CHILD}, csrf)
        revealed = post(f"/records/{record_id}/reveal", {"field": "name"}, csrf)
        assert NAME in revealed  # the reveal worked, so the value did pass through the app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    logged = caplog.text
    assert re.search(r"POST /records/\d+/reveal", logged), "the access log was not captured"
    for secret in (NAME, PHONE, CHILD, PASSWORD, WRONG_PASSWORD, "Secretname", "SECRET-77"):
        assert secret not in logged, f"{secret!r} appeared in the logs"
    engine.dispose()
