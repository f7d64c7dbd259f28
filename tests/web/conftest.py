from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.web.app import create_app
from tests.conftest import BACKENDS, fresh_engine


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    settings = Settings(database_url=str(engine.url), max_upload_bytes=64 * 1024)
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


@pytest.fixture(scope="module", params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database of the test module's own (named after it: ``test_admin_pages`` →
    ``admin_pages``), on each backend, for page tests that write."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    engine = fresh_engine(request.param, tmp_path_factory.mktemp("db"), name)
    yield engine
    engine.dispose()
