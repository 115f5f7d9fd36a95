"""Settings from the environment (and a `.env` file), declared once with their help text."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_PARENT = Path(__file__).resolve().parent.parent
SHARE_DIR = Path(sys.prefix) / "share" / "smartcity-bot"
"""Where `pip install` (not editable) puts knowledge/ and intents/ (pyproject data-files)."""


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


@lru_cache
def get_settings() -> Settings:
    """The process's settings; tests build `Settings(...)` directly instead."""
    return Settings()
