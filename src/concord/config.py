"""Settings: one pydantic-settings class, read from ``CONCORD_*`` environment variables.

Why one class: every layer asks the same object, tests build their own instance instead of
patching globals, and ``concord --help`` can say which variables exist.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``CONCORD_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CONCORD_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///./concord.db",
        description="SQLAlchemy URL; SQLite is the embedded default, PostgreSQL "
        "(postgresql+psycopg://...) for production.",
    )
    key_dir: Path = Field(
        default=Path("./concord-keys"),
        description="Directory holding secrets (never stored in the database).",
    )
    mapping_dir: Path = Field(
        default=Path("./concord-demo-data"),
        description="Directory of *.mapping.yaml specs offered on the upload page.",
    )
    upload_dir: Path = Field(
        default=Path("./concord-uploads"),
        description="Where uploaded partner files are kept while they are imported.",
    )
    max_import_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        description="Largest partner file the upload page accepts.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web app listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the web app listens on.")
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024,
        description="Largest request body the API accepts for lint and crosswalk checks.",
    )
    lint_max_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="Largest file `concord lint` reads; bigger files are refused with a message.",
    )
    node_id: str | None = Field(
        default=None,
        description="This node's id in a federation (its organisation slug); it signs the "
        "bundles the node releases.",
    )
    hub_url: str | None = Field(
        default=None,
        description="The regional hub `concord federation push` sends bundles to "
        "(http://host:port).",
    )
    bundle_dir: Path = Field(
        default=Path("./concord-bundles"),
        description="Where signed release bundles are written.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
