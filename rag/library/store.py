"""The Chroma adapter: passages with embeddings, the text, sentences and listing of each
document, and the embedding of each sentence.

All live in Chroma (four collections), so an embedded store and a Chroma server behave the
same and a second machine sees everything the first one ingested.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import asdict
from functools import cached_property
from urllib.parse import urlparse

from rag.errors import StoreUnavailable
from rag.language.sentences import sentence_table
from rag.settings import Settings
from rag.types import Document, DocumentText, Passage, SentenceSpan

_PAGE = 5000  # Chroma caps how many records one get() returns
# Written into each collection's metadata: documents gained ids in 3, stored sentences in 4.
SCHEMA = 4
_SUFFIXES = ("_sources", "_state", "_sentences", "_tables")
_STATE_ID = "library"
_PENDING_ID = "pending"


class PassageStore:
    """Passages, document texts, sentence embeddings and the library's change counter, in one
    Chroma collection each (named after the ingest settings)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = _client(settings)
        name = settings.collection_name
        try:
            self.passages = self.client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine", "rag_schema": SCHEMA}
            )
            self.sources = self.client.get_or_create_collection(
                name + "_sources", metadata={"rag_schema": SCHEMA}
            )
            self.state = self.client.get_or_create_collection(
                name + "_state", metadata={"rag_schema": SCHEMA}
            )
            self.sentences = self.client.get_or_create_collection(
                name + "_sentences", metadata={"hnsw:space": "cosine", "rag_schema": SCHEMA}
            )
            # Each document's sentence spans, apart from its listing: reading every
            # document's hash or name must not read every document's sentences too.
            self.tables = self.client.get_or_create_collection(
                name + "_tables", metadata={"rag_schema": SCHEMA}
            )
        except Exception as error:  # chromadb raises many types; all mean the same to a user
            raise StoreUnavailable(f"cannot open the Chroma collection {name}: {error}") from None

    @cached_property
    def vector_store(self):
        """The same passages collection as a LlamaIndex vector store."""
        from llama_index.vector_stores.chroma import ChromaVectorStore  # noqa: PLC0415

        return ChromaVectorStore(chroma_collection=self.passages)

    def count(self) -> int:
        """Number of passages stored."""
        return self.passages.count()

    def generation(self) -> str:
        """Changes whenever the library does (any ingest or removal, by any process)."""
        found = self.state.get(ids=[_STATE_ID], include=["metadatas"])
        return found["metadatas"][0]["generation"] if found["ids"] else ""

    def touch(self) -> None:
        """Record that the library changed, so every retriever rebuilds its keyword index."""
        self.state.upsert(
            ids=[_STATE_ID], embeddings=[[0.0]], metadatas=[{"generation": uuid.uuid4().hex}]
        )

    def mark_pending(self, document_ids: list[str]) -> None:
        """Record the documents an ingest is about to write: if it is killed before their
        texts are saved, the next ingest finds their passages by this and sweeps them."""
        self.state.upsert(
            ids=[_PENDING_ID],
            embeddings=[[0.0]],
            metadatas=[{"documents": json.dumps(sorted(document_ids))}],
        )

    def pending(self) -> list[str]:
        """The documents the last ingest began to write and did not finish."""
        found = self.state.get(ids=[_PENDING_ID], include=["metadatas"])
        return json.loads(found["metadatas"][0]["documents"]) if found["ids"] else []

    def legacy_collections(self) -> list[str]:
        """Collections of this library written by an older version (documents without ids),
        which this version does not read: `rag ingest` must be run again on their files."""
        prefix = self.settings.library + "_"
        try:
            collections = self.client.list_collections()
        except Exception:  # noqa: BLE001 - a notice only; never stop an answer for it
            return []
        return sorted(
            c.name
            for c in collections
            if c.name.startswith(prefix)
            and not c.name.endswith(_SUFFIXES)
            and (c.metadata or {}).get("rag_schema", 0) < SCHEMA
        )

    def passage_ids(self, document_id: str) -> set[str]:
        """Ids of the stored passages of one document."""
        return set(self._get(self.passages, where={"document": document_id}, include=[])[0])

    def passage_ids_by_document(self, document_ids: list[str]) -> dict[str, set[str]]:
        """Document id -> ids of its stored passages, for the given documents (wherever they
        were ingested from: a file ingested before from a subfolder is the same document)."""
        by_document: dict[str, set[str]] = {}
        for i in range(0, len(document_ids), _PAGE):
            where = {"document": {"$in": document_ids[i : i + _PAGE]}}
            ids, metadatas, _ = self._get(self.passages, where=where, include=["metadatas"])
            for pid, meta in zip(ids, metadatas, strict=True):
                by_document.setdefault(meta["document"], set()).add(pid)
        return by_document

    def content_hashes(self, document_ids: list[str]) -> dict[str, str]:
        """Document id -> hash of its stored text, for those of the given documents stored."""
        return {m["id"]: m["sha"] for m in self._source_metadata(document_ids)}

    def saved_documents(self, document_ids: list[str]) -> dict[str, Document]:
        """Document id -> its listing, for those of the given documents whose text is saved."""
        return {m["id"]: _document(m) for m in self._source_metadata(document_ids)}

    def _source_metadata(self, document_ids: list[str]) -> list[dict]:
        """The stored listings (metadata) of those of the given documents saved, a page of
        ids at a time."""
        found = []
        for i in range(0, len(document_ids), _PAGE):
            page = self.sources.get(ids=document_ids[i : i + _PAGE], include=["metadatas"])
            found += page["metadatas"]
        return found

    def documents_under(self, root: str) -> dict[str, tuple[Document, str]]:
        """Document id -> (document, content hash), for the documents ingested from `root`."""
        _, metadatas, _ = self._get(self.sources, where={"root": root}, include=["metadatas"])
        return {m["id"]: (_document(m), m["sha"]) for m in metadatas}

    def all_hashes(self) -> dict[str, str]:
        """Document id -> hash of its stored text, for every document (what a derived index
        compares itself with)."""
        _, metadatas, _ = self._get(self.sources, include=["metadatas"])
        return {m["id"]: m["sha"] for m in metadatas}

    def save_document(
        self,
        document: Document,
        root: str,
        text: str,
        sha: str,
        sentences: tuple[SentenceSpan, ...],
    ) -> None:
        """Store (or replace) the text of a document, its sentences and what the library
        lists about it."""
        self.tables.upsert(
            ids=[document.id],
            documents=[json.dumps([v for span in sentences for v in span])],
            embeddings=[[0.0]],  # looked up by id only; Chroma requires a vector
            metadatas=[{"sha": sha}],  # the text these spans belong to
        )
        self.sources.upsert(
            ids=[document.id],
            documents=[text],
            embeddings=[[0.0]],
            metadatas=[{**asdict(document), "root": root, "sha": sha}],
        )

    def document_texts(self, document_ids: list[str]) -> dict[str, DocumentText]:
        """The stored texts and sentences of the given documents (those still stored)."""
        if not document_ids:
            return {}
        found = self.sources.get(ids=list(document_ids), include=["documents", "metadatas"])
        tables = self.tables.get(ids=list(document_ids), include=["documents", "metadatas"])
        spans = {
            (pid, meta["sha"]): flat
            for pid, flat, meta in zip(
                tables["ids"], tables["documents"], tables["metadatas"], strict=True
            )
        }
        texts = {}
        for pid, text, meta in zip(
            found["ids"], found["documents"], found["metadatas"], strict=True
        ):
            flat = spans.get((pid, meta["sha"]))
            # Spans of another version of the text (a write cut short) are found again.
            texts[pid] = DocumentText(
                pid, text, _spans(flat) if flat is not None else sentence_table(text)
            )
        return texts

    def save_sentence_vectors(self, document_id: str, ids: list[str], vectors: list) -> None:
        """Store the embeddings of a document's sentences (ids from `sentence_id`)."""
        for i in range(0, len(ids), _PAGE):
            self.sentences.upsert(
                ids=ids[i : i + _PAGE],
                embeddings=vectors[i : i + _PAGE],
                metadatas=[{"document": document_id}] * len(ids[i : i + _PAGE]),
            )

    def drop_sentence_vectors(self, document_id: str, keep: set[str] = frozenset()) -> None:
        """Remove a document's sentence embeddings, but those in `keep`."""
        ids, _, _ = self._get(self.sentences, where={"document": document_id}, include=[])
        stale = sorted(set(ids) - set(keep))
        for i in range(0, len(stale), _PAGE):
            self.sentences.delete(ids=stale[i : i + _PAGE])

    def sentence_vectors(self, ids: list[str]) -> dict[str, list[float]]:
        """Sentence id -> its stored embedding, for those of `ids` stored."""
        if not ids:
            return {}
        found = self.sentences.get(ids=list(ids), include=["embeddings"])
        return dict(zip(found["ids"], found["embeddings"], strict=True))

    def documents(self) -> list[Document]:
        """Every document in the library, by name."""
        _, metadatas, _ = self._get(self.sources, include=["metadatas"])
        return sorted(map(_document, metadatas), key=lambda d: (d.name, d.path))

    def source_text(self, document_id: str) -> str | None:
        """The stored text of a document, or None."""
        result = self.sources.get(ids=[document_id], include=["documents"])
        return result["documents"][0] if result["ids"] else None

    def source_texts(self) -> dict[str, str]:
        """Every stored document: name -> text (for the evals, whose documents are named
        uniquely)."""
        _, metadatas, documents = self._get(self.sources, include=["metadatas", "documents"])
        return {m["name"]: text for m, text in zip(metadatas, documents, strict=True)}

    def add(self, nodes) -> None:
        """Write embedded LlamaIndex nodes."""
        self.vector_store.add(nodes)

    def delete_passages(self, ids: list[str]) -> None:
        """Remove passages by id."""
        for i in range(0, len(ids), _PAGE):
            self.passages.delete(ids=ids[i : i + _PAGE])

    def delete_document(self, document_id: str) -> None:
        """Remove a document's passages, then its text: a removal cut short leaves the
        document listed, and running it again finishes it."""
        self.delete_passages(sorted(self.passage_ids(document_id)))
        self.drop_sentence_vectors(document_id)
        self.sources.delete(ids=[document_id])
        self.tables.delete(ids=[document_id])

    def all_passages(self) -> list[Passage]:
        """Every stored passage, whether or not its document's text is stored yet."""
        ids, metadatas, texts = self._get(self.passages, include=["metadatas", "documents"])
        return [passage_of(*record) for record in zip(ids, metadatas, texts, strict=True)]

    def passages_of(self, document_ids: list[str]) -> dict[str, list[Passage]]:
        """Document id -> its stored passages, for the given documents (for the keyword index)."""
        by_document: dict[str, list[Passage]] = {}
        for i in range(0, len(document_ids), _PAGE):
            where = {"document": {"$in": document_ids[i : i + _PAGE]}}
            ids, metadatas, texts = self._get(
                self.passages, where=where, include=["metadatas", "documents"]
            )
            for pid, m, text in zip(ids, metadatas, texts, strict=True):
                by_document.setdefault(m["document"], []).append(passage_of(pid, m, text))
        return by_document

    def _get(self, collection, **query) -> tuple[list, list, list]:
        ids, metadatas, documents, offset = [], [], [], 0
        while True:
            page = collection.get(limit=_PAGE, offset=offset, **query)
            ids += page["ids"]
            metadatas += page.get("metadatas") or []
            documents += page.get("documents") or []
            if len(page["ids"]) < _PAGE:
                return ids, metadatas, documents
            offset += _PAGE


def passage_of(pid: str, metadata: dict, text: str, score: float = 0.0) -> Passage:
    """The Passage a stored record (or a LlamaIndex node of one) describes."""
    return Passage(
        pid,
        metadata["source"],
        text,
        int(metadata["start"]),
        int(metadata["end"]),
        score,
        metadata["document"],
    )


def sentence_id(document_id: str, start: int, end: int) -> str:
    """The id of a sentence's stored embedding."""
    return f"{document_id}:{start}:{end}"


def _spans(flat: str) -> tuple[SentenceSpan, ...]:
    values = json.loads(flat)
    return tuple(tuple(values[i : i + 4]) for i in range(0, len(values), 4))


_DOCUMENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Document))


def _document(metadata: dict) -> Document:
    """The Document a stored text's metadata describes (root and hash left aside)."""
    return Document(**{k: v for k, v in metadata.items() if k in _DOCUMENT_FIELDS})


def _client(settings: Settings):
    import chromadb  # noqa: PLC0415 - heavy; not needed for `rag --help`
    from chromadb.config import Settings as ChromaSettings  # noqa: PLC0415

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
            return client
        path = settings.store_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as error:
        where = settings.chroma_url or str(settings.store_dir)
        raise StoreUnavailable(f"cannot reach the Chroma store at {where}: {error}") from None
