"""FastAPI dependencies shared by the API routers and the UI pages."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from concord.config import Settings
from concord.vocab.model import Vocabulary


def db_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the handler returns normally."""
    session = Session(bind=request.app.state.engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def vocabulary(request: Request) -> Vocabulary:
    """The vocabulary the app was started with (the shipped one unless a test says otherwise)."""
    value: Vocabulary = request.app.state.vocabulary
    return value
