from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.web.app import create_app


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    settings = Settings(database_url=str(engine.url), max_upload_bytes=64 * 1024)
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client
