"""Shared fixtures: a store with the seeds ingested by the real model into a real Chroma."""

from __future__ import annotations

import os
import subprocess
import sys
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


def rag(
    *args: str,
    home: Path,
    stdin: str | None = None,
    env: dict | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """`rag ARGS` in a fresh process on data directory `home`, as a user runs it."""
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


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
    from rag.engine import Chatbot

    return Chatbot(seeded_settings)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run`) on 127.0.0.1, for the whole test session."""
    import shutil

    from tests.servers import free_port, running

    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    require(Path(chroma).exists(), "the chroma command (pip install chromadb)")
    port, data = free_port(), tmp_path_factory.mktemp("chroma-server")
    url = f"http://127.0.0.1:{port}"
    command = [
        chroma,
        "run",
        "--path",
        str(data / "db"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with running(command, url + "/api/v2/heartbeat", data / "server.log", timeout=120):
        yield url


_libraries = iter(range(10**6))


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path):
    """A factory of settings for an empty store, embedded Chroma or a Chroma server."""

    def make(**overrides) -> Settings:
        if request.param == "server":
            overrides.setdefault("chroma_url", request.getfixturevalue("chroma_server"))
            overrides.setdefault("library", f"test{next(_libraries)}")
        return make_settings(tmp_path / "home", **overrides)

    return make
