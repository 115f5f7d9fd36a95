"""Settings from the environment (and a `.env` file), declared once with their help text."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_PARENT = Path(__file__).resolve().parent.parent
SHARE_DIR = Path(sys.prefix) / "share" / "smartcity-bot"
"""Where `pip install` (not editable) puts knowledge/ and intents/ (pyproject data-files)."""


def default_database_url() -> str:
    """A SQLite file under `data/` in the working directory (the repo, with `make run`)."""
    return f"sqlite:///{Path.cwd() / 'data' / 'smartcity-bot.sqlite3'}"


def find_data_dir(name: str) -> Path:
    """The repo's `knowledge/` or `intents/`: beside the package in a checkout, else installed."""
    for candidate in (PACKAGE_PARENT / name, SHARE_DIR / name, Path.cwd() / name):
        if candidate.is_dir():
            return candidate
    return PACKAGE_PARENT / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    knowledge_dir: Path = Field(
        default_factory=lambda: find_data_dir("knowledge"),
        description="Folder of knowledge YAML files (default: the repo's knowledge/).",
    )
    intents_dir: Path = Field(
        default_factory=lambda: find_data_dir("intents"),
        description="Folder of intent training YAML files (default: the repo's intents/).",
    )
    tokenizer_engine: str = Field(
        default="nlpo3", description="PyThaiNLP word tokenizer: nlpo3 (fast) or newmm."
    )
    line_channel_secret: SecretStr | None = Field(
        default=None,
        description="LINE channel secret, to verify webhook signatures. Unset: local mode.",
    )
    line_channel_access_token: SecretStr | None = Field(
        default=None,
        description="LINE channel access token, to send replies. Unset: local mode.",
    )
    line_api_base_url: str = Field(
        default="https://api.line.me",
        description="Base URL of LINE's Messaging API (tests point it at a local fake).",
    )
    line_api_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds one call to LINE's API may take before it counts as failed.",
    )
    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the store: a SQLite file under data/ by default, "
        "or postgresql://user@host:port/db.",
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Token for the admin API and page; unset disables them."
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        description="Days a logged unanswered question is kept (PDPA); the server purges "
        "older ones daily, `smartcity-bot unanswered purge` on demand.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for GET /metrics only (for a Prometheus scraper); the "
        "admin token is accepted too. Both unset: /metrics is disabled.",
    )
    server_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where `smartcity-bot reload` finds the running server.",
    )
    user_key_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key that turns LINE user ids into stored keys; unset: generated "
        "once and kept in the database, so every replica shares it.",
    )

    @property
    def line_enabled(self) -> bool:
        """Both LINE credentials are set; otherwise the server runs in local mode."""
        return bool(self.line_channel_secret and self.line_channel_access_token)


@lru_cache
def get_settings() -> Settings:
    """The process's settings; tests build `Settings(...)` directly instead."""
    return Settings()
