"""Shared fixtures: a store with the seeds ingested by the real model into a real Chroma."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "reverse-brain-drain-chinese-researchers-return-from-us.txt"


def require(condition: bool, what: str) -> None:
    """Skip locally when a system part is missing; under CI=true that is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI needs {what}")
        pytest.skip(f"needs {what}")


def make_settings(home: Path, **overrides) -> Settings:
    """Settings for a test: its own data directory, nothing from the environment's RAG_HOME."""
    return Settings(home=home, **overrides)


@pytest.fixture(scope="session")
def seeded_settings(tmp_path_factory) -> Settings:
    """Settings whose store holds the seed article (ingested once per test session)."""
    from ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("seeded"))
    ingest([settings.seeds_dir], settings, progress=False)
    return settings


@pytest.fixture(scope="session")
def bot(seeded_settings):
    """A Chatbot over the seeded store."""
    from rag.answer import Chatbot

    return Chatbot(seeded_settings)
