"""Who may do what: organisations, the purposes each may use data for, users, their roles in
each organisation, their training, their login sessions and their API tokens.

Why roles live on a membership (user × organisation) and not on the user: a person may be a
caseworker in one organisation and nothing in another; access is always decided for one
organisation at a time. Secrets (passwords, session ids, API tokens) are stored only as hashes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base
from concord.db.models.records import BigId


class Organisation(Base):
    """A member organisation of this node (hotline, helpline, NGO, country office, ...)."""

    __tablename__ = "organisation"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    country: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Purpose(Base):
    """A purpose data may be used for (case management, referral, statistics, ...)."""

    __tablename__ = "purpose"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Whether the purpose ever justifies seeing single records (statistics does not).
    record_level: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether the purpose ever justifies seeing identifying values (names, contacts).
    identifying: Mapped[bool] = mapped_column(Boolean, default=False)


class OrganisationPurpose(Base):
    """A purpose an organisation is allowed to use data for (its legal basis, in short)."""

    __tablename__ = "organisation_purpose"

    organisation: Mapped[str] = mapped_column(
        ForeignKey("organisation.slug", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(
        ForeignKey("purpose.slug", ondelete="CASCADE"), primary_key=True
    )
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who logs in. ``node_admin`` may create organisations and purposes."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(256))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    node_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Demo accounts are labelled everywhere they appear.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Membership(Base):
    """A user's role in one organisation."""

    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(
        ForeignKey("organisation.slug", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrainingRecord(Base):
    """A completed course: data protection or child safeguarding, with its expiry."""

    __tablename__ = "training_record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # data_protection | child_safeguarding
    issuer: Mapped[str] = mapped_column(String(256))
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A browser login. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    #: The purpose the user stated for this session (None until stated).
    purpose: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A scoped API token. Only the SHA-256 of the token is stored; it is shown once."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64))
    #: Permissions this token may use (a subset of what its user's roles allow).
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: The purpose every request with this token is made for (None: aggregates only).
    purpose: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
