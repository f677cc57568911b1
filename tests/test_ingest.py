"""Ingest with the real embedding model into a real (embedded) Chroma in a temporary folder."""

import shutil
import subprocess
import sys
import textwrap

import pytest

from ingest.pipeline import document_id, ingest
from rag.errors import IngestBusy
from rag.library.store import PassageStore
from tests.conftest import SEED, make_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEED, folder / "article.txt")
    (folder / "note.md").write_text("# Note\n\nThe pilot study ran in Lisbon in 2021.\n")
    return folder


def test_reingest_of_unchanged_files_embeds_and_adds_nothing(store_settings, corpus):
    settings = store_settings()
    first = ingest([corpus], settings, progress=False)
    assert first.passages_embedded == first.total_passages > 20
    second = ingest([corpus], settings, progress=False)
    assert second.passages_embedded == 0 and second.passages_deleted == 0
    assert second.files_unchanged == 2
    assert PassageStore(settings).count() == first.total_passages


def test_stored_passages_keep_the_offsets_invariant(store_settings, corpus):
    settings = store_settings()
    ingest([corpus], settings, progress=False)
    store = PassageStore(settings)
    texts = store.source_texts()
    passages = store.all_passages()
    assert len({p.id for p in passages}) == len(passages)
    for p in passages:
        assert texts[p.source][p.start : p.end] == p.text


def test_changed_file_replaces_only_its_passages_and_removed_file_goes(store_settings, corpus):
    settings = store_settings()
    ingest([corpus], settings, progress=False)
    store = PassageStore(settings)
    article, note = document_id(corpus / "article.txt"), document_id(corpus / "note.md")
    article_ids = store.passage_ids(article)
    (corpus / "note.md").write_text("# Note\n\nThe pilot study ran in Porto in 2022.\n")
    report = ingest([corpus], settings, progress=False)
    assert report.passages_embedded == 1 and report.passages_deleted == 1
    assert store.passage_ids(article) == article_ids
    assert "Porto" in store.source_text(note)
    (corpus / "note.md").unlink()
    report = ingest([corpus], settings, progress=False)
    assert report.documents_removed == ["docs/note.md"]
    assert store.passage_ids(note) == set()
    assert store.source_text(note) is None


def test_binary_file_is_skipped_by_name_and_the_rest_ingested(store_settings, corpus, capsys):
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02binary\xff")
    settings = store_settings()
    report = ingest([corpus], settings, progress=False)
    assert len(report.skipped) == 1 and "broken.txt" in report.skipped[0]
    assert "broken.txt" in capsys.readouterr().err
    assert set(PassageStore(settings).source_texts()) == {"docs/article.txt", "docs/note.md"}


def test_second_ingest_is_refused_while_another_process_holds_the_lock(tmp_path, corpus):
    settings = make_settings(tmp_path / "home")
    settings.home.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from filelock import FileLock
            lock = FileLock({str(settings.home / "ingest.lock")!r})
            lock.acquire()
            print("locked", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IngestBusy, match="another ingest"):
            ingest([corpus], settings, progress=False)
    finally:
        holder.kill()
        holder.wait()
    assert ingest([corpus], settings, progress=False).passages_embedded > 0


def test_answers_come_from_the_same_store_embedded_or_server(store_settings, corpus):
    from rag.engine import Chatbot

    settings = store_settings()
    ingest([corpus], settings, progress=False)
    bot = Chatbot(settings)
    answer = bot.answer("Why did Liu Jun return to China?")
    assert "patriotism" in answer.text and not answer.refused
    for c in answer.citations:
        assert bot.store.source_text(c.document_id)[c.start : c.end] == c.quote
    assert bot.answer("Where did the pilot study run?").citations[0].source == "docs/note.md"
