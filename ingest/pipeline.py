"""Files -> passages -> embeddings -> Chroma, idempotently and one writer at a time."""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ingest.chunking import split_passages
from ingest.readers import SUPPORTED_SUFFIXES, ReadLimits, read_document
from rag.access.audit import command_line_user, record
from rag.errors import IngestBusy, RagError, UnreadableFile
from rag.language.sentences import sentence_table, states_something
from rag.library.store import PassageStore, sentence_id
from rag.settings import Settings
from rag.types import Document, Passage, SentenceSpan


@dataclass
class IngestReport:
    """What one ingest did; printed by the CLI and shown by the UI."""

    files_seen: int = 0
    files_unchanged: int = 0
    passages_embedded: int = 0
    passages_deleted: int = 0
    documents_removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    total_passages: int = 0

    def summary(self) -> str:
        """One line for people."""
        # A document removed takes its passages with it; they are not in `passages_deleted`.
        removed = len(self.documents_removed)
        return (
            f"{self.files_seen} files ({self.files_unchanged} unchanged), "
            f"{self.passages_embedded} passages embedded, {self.passages_deleted} deleted, "
            f"{removed} document{'' if removed == 1 else 's'} removed, "
            f"{len(self.skipped)} skipped; {self.total_passages} passages in the store"
        )


def document_id(path: Path) -> str:
    """A document's identity: its resolved path, so same-named files in different folders
    never collide, and the same file ingested again is the same document."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


@contextmanager
def writing(settings: Settings):
    """Hold the data directory's writer lock; IngestBusy if another process holds it."""
    settings.home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.home / "ingest.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IngestBusy(
            f"another ingest is writing to {settings.home}; wait for it to finish and retry"
        ) from None
    try:
        yield
    finally:
        lock.release()


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    progress: bool = True,
    store: PassageStore | None = None,
    user: str | None = None,
    action: str = "ingest",
    locked: bool = False,
) -> IngestReport:
    """Bring the store in line with the files under `paths`; refuse if another ingest runs.

    Each document added, changed or gone is recorded in the audit log as done by `user`
    (default: the command line's account) with `action` ("ingest", or "upload" from the page).
    `locked`: the caller holds the writer's lock already (`writing`).
    """
    change = _Change(user or command_line_user(), action)
    with contextlib.nullcontext() if locked else writing(settings):
        store = store or PassageStore(settings)
        report = IngestReport()
        _sweep_orphans(store, settings, report)
        for path in paths:
            _ingest_root(Path(path), store, settings, report, progress, change)
        report.total_passages = store.count()
        return report


def remove(
    documents: list[Document], settings: Settings, store: PassageStore, user: str | None = None
) -> None:
    """Take documents out of the library (passages first, then text; a removal cut short is
    finished by running it again). A file uploaded through the page goes too: the next upload
    ingests the uploads folder and would bring it back."""
    uploads = settings.uploads_dir.resolve()
    user = user or command_line_user()
    with writing(settings):
        hashes = store.content_hashes([d.id for d in documents])
        for document in documents:
            store.delete_document(document.id)
            record(settings, user, "remove", document, hashes.get(document.id, ""))
            # Only once it is out of the library: a removal cut short keeps its file.
            if Path(document.path).parent == uploads:
                Path(document.path).unlink(missing_ok=True)
        store.touch()


@dataclass(frozen=True)
class _Change:
    """Who changes the library, and how, for the audit log and the documents' listing."""

    user: str
    action: str


@dataclass(frozen=True)
class _Read:
    """A file read, segmented and chunked, not yet stored."""

    document: Document
    text: str
    passages: list[Passage]
    sentences: tuple[SentenceSpan, ...]


def _ingest_root(
    path: Path,
    store: PassageStore,
    settings: Settings,
    report: IngestReport,
    progress: bool,
    change: _Change,
) -> None:
    if not path.exists():
        raise RagError(f"{path}: no such file or folder")
    root = path.resolve() if path.is_dir() else path.resolve().parent
    files = sorted(p for p in root.rglob("*") if _wanted(p, root)) if path.is_dir() else [path]
    documents, unreadable = _read_all(files, root, settings, change.user)
    hashes = store.content_hashes(list(documents) + list(unreadable))
    for doc_id, reason in unreadable.items():
        note = f"{reason}; kept the earlier version" if doc_id in hashes else reason
        report.skipped.append(note)
        print(f"skipped {note}", file=sys.stderr)
    stored_ids = store.passage_ids_by_document(list(documents))
    # A document is current when its text and its exact set of passages are both stored.
    plan = [
        read
        for doc_id, read in documents.items()
        if hashes.get(doc_id) != _sha(read.text)
        or stored_ids.get(doc_id, set()) != {p.id for p in read.passages}
    ]
    report.files_seen += len(documents)
    report.files_unchanged += len(documents) - len(plan)
    _write(plan, stored_ids, str(root), store, settings, report, progress)
    for read in plan:
        record(settings, change.user, change.action, read.document, _sha(read.text))
    # Only after the plan is written: a file of this folder now ingested with it is not gone.
    known = store.documents_under(str(root)) if path.is_dir() else {}
    # A file still here but unreadable now (re-saved in another encoding, grown past the
    # limit) is not gone: its earlier version stays until it is fixed or deleted.
    gone = sorted(set(known) - set(documents) - set(unreadable))
    for doc_id in gone:
        document, sha = known[doc_id]
        store.delete_document(doc_id)
        report.documents_removed.append(document.name)
        record(settings, change.user, "remove", document, sha)
    if plan or gone:
        store.touch()


def _sweep_orphans(store: PassageStore, settings: Settings, report: IngestReport) -> None:
    """What an ingest killed mid-write left that nothing lists: passages of a document whose
    text was never saved, and passages (and sentence vectors) of a new version of a document
    whose saved text is still the old one. Their files may be gone, so no later ingest of
    them would mend it: they are removed now."""
    pending = store.pending()
    if not pending:
        return
    saved = store.saved_documents(pending)
    texts = store.document_texts(list(saved))
    for doc_id in pending:
        stored = store.passage_ids(doc_id)
        if doc_id not in saved or doc_id not in texts:
            report.passages_deleted += len(stored)
            store.delete_document(doc_id)
            continue
        read = _Read(saved[doc_id], texts[doc_id].text, [], texts[doc_id].sentences)
        # Ids come from content: the saved text's own passages are exactly these.
        kept = {
            p.id for p in _passages(read.document.name, read.text, doc_id, read.sentences, settings)
        }
        extra = sorted(stored - kept)
        store.delete_passages(extra)
        store.drop_sentence_vectors(doc_id, keep={sid for sid, _ in _statements(read)})
        report.passages_deleted += len(extra)
    store.mark_pending([])


def _wanted(path: Path, root: Path) -> bool:
    """A supported file, not hidden and not inside a hidden folder (.git, .venv) under root."""
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return path.is_file() and not hidden and path.suffix.lower() in SUPPORTED_SUFFIXES


def _read_all(
    files, root: Path, settings: Settings, user: str
) -> tuple[dict[str, _Read], dict[str, str]]:
    """The files read, by document id; and why each file that is there but could not be
    read was not (a file gone since it was listed is not among them)."""
    documents, unreadable = {}, {}
    limits = ReadLimits(settings.max_expanded_bytes, settings.read_seconds)
    for file in files:
        # The folder's own name helps people tell documents of different folders apart.
        name = f"{root.name}/{file.resolve().relative_to(root).as_posix()}"
        try:
            text = read_document(file, settings.max_file_bytes, limits)
        except UnreadableFile as error:
            if file.exists():  # one deleted since it was listed is gone, not skipped
                unreadable[document_id(file)] = str(error)
            continue
        doc_id = document_id(file)
        sentences = sentence_table(text)
        passages = _passages(name, text, doc_id, sentences, settings)
        document = Document(
            id=doc_id,
            name=name,
            path=str(file.resolve()),
            passages=len(passages),
            chars=len(text),
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
            added_by=user,
        )
        documents[doc_id] = _Read(document, text, passages, sentences)
    return documents, unreadable


def _passages(
    name: str, text: str, doc_id: str, sentences: tuple[SentenceSpan, ...], settings: Settings
) -> list[Passage]:
    return split_passages(
        name,
        text,
        settings.chunk_chars,
        settings.chunk_overlap_sentences,
        doc_id,
        [(start, end) for _, _, start, end in sentences],
    )


def _write(
    plan: list[_Read],
    stored_ids: dict[str, set[str]],
    root: str,
    store: PassageStore,
    settings: Settings,
    report: IngestReport,
    progress: bool,
) -> None:
    """Add missing passages first, then the text, then drop stale passages.

    Ids come from content, so a run killed at any point is finished by the next run:
    what is present is kept, what is missing is added, what is stale is removed.
    """
    to_embed: list[Passage] = []
    stale: list[str] = []
    for read in plan:
        existing = stored_ids.get(read.document.id, set())
        to_embed += [p for p in read.passages if p.id not in existing]
        stale += sorted(existing - {p.id for p in read.passages})
    if plan:
        store.mark_pending([read.document.id for read in plan])
    _embed_and_add(to_embed, root, store, settings, progress)
    _embed_sentences(plan, store, settings, progress)
    for read in plan:
        store.save_document(read.document, root, read.text, _sha(read.text), read.sentences)
        store.drop_sentence_vectors(read.document.id, keep={sid for sid, _ in _statements(read)})
    store.delete_passages(stale)
    if plan:
        store.mark_pending([])
    report.passages_embedded += len(to_embed)
    report.passages_deleted += len(stale)


def _embed_and_add(
    passages: list[Passage], root: str, store: PassageStore, settings: Settings, progress: bool
) -> None:
    if not passages:
        return
    from llama_index.core.schema import TextNode  # noqa: PLC0415
    from tqdm import tqdm  # noqa: PLC0415

    from rag.library.embedding import embed_model  # noqa: PLC0415

    model = embed_model(settings)
    batch = max(1, settings.embed_batch_size)
    # A batch costs as much as its longest text times its size: batching passages of similar
    # length wastes little on padding. Order does not matter to the store (ids reconcile).
    passages = sorted(passages, key=lambda p: len(p.text))
    with tqdm(
        total=len(passages),
        desc="Embedding passages",
        unit="passage",
        disable=not progress,
        file=sys.stderr,
    ) as bar:
        for i in range(0, len(passages), batch):
            chunk = passages[i : i + batch]
            vectors = model.get_text_embedding_batch([p.text for p in chunk])
            nodes = [
                TextNode(
                    id_=p.id,
                    text=p.text,
                    embedding=v,
                    metadata={
                        "source": p.source,
                        "document": p.document_id,  # LlamaIndex reserves "doc_id"
                        "root": root,
                        "start": p.start,
                        "end": p.end,
                    },
                )
                for p, v in zip(chunk, vectors, strict=True)
            ]
            store.add(nodes)
            bar.update(len(chunk))


def _embed_sentences(
    plan: list[_Read], store: PassageStore, settings: Settings, progress: bool
) -> None:
    """Embed each statement of the documents once, now, with the evidence encoder, so that
    no question has to."""
    from tqdm import tqdm  # noqa: PLC0415

    from rag.library.embedding import evidence_embeddings  # noqa: PLC0415

    wanted = [(read.document.id, sid, text) for read in plan for sid, text in _statements(read)]
    if not wanted:
        return
    batch = max(1, settings.embed_batch_size)
    with tqdm(
        total=len(wanted),
        desc="Embedding sentences",
        unit="sentence",
        disable=not progress,
        file=sys.stderr,
    ) as bar:
        for i in range(0, len(wanted), batch):
            chunk = wanted[i : i + batch]
            vectors = evidence_embeddings(settings, [t for _, _, t in chunk]).tolist()
            for document in dict.fromkeys(d for d, _, _ in chunk):
                mine = [
                    (sid, v) for (d, sid, _), v in zip(chunk, vectors, strict=True) if d == document
                ]
                store.save_sentence_vectors(
                    document, [sid for sid, _ in mine], [v for _, v in mine]
                )
            bar.update(len(chunk))


def _statements(read: _Read) -> list[tuple[str, str]]:
    """(sentence id, text) of each sentence of a document that could answer a question."""
    return [
        (sentence_id(read.document.id, start, end), read.text[start:end])
        for _, _, start, end in read.sentences
        if states_something(read.text[start:end])
    ]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
