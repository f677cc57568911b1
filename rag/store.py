"""The Chroma adapter: passages with embeddings, and the normalized text of each document.

Both live in Chroma (two collections), so an embedded store and a Chroma server behave the
same and a second machine sees everything the first one ingested.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from urllib.parse import urlparse

from rag.errors import StoreUnavailable
from rag.settings import Settings
from rag.types import Passage

_PAGE = 5000  # Chroma caps how many records one get() returns


def source_key(source: str) -> str:
    """Chroma id of a document's stored text."""
    return hashlib.sha256(source.encode()).hexdigest()[:32]


class PassageStore:
    """Passages and document texts of one collection (named after the ingest settings)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = _client(settings)
        name = settings.collection_name
        try:
            self.passages = self.client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine"}
            )
            self.sources = self.client.get_or_create_collection(name + "_sources")
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

    def passage_ids(self, source: str) -> set[str]:
        """Ids of the stored passages of one document."""
        return set(self._get(self.passages, where={"source": source}, include=[])[0])

    def passage_ids_by_source(self, root: str) -> dict[str, set[str]]:
        """Document name -> ids of its stored passages, for documents ingested from `root`."""
        ids, metadatas, _ = self._get(self.passages, where={"root": root}, include=["metadatas"])
        by_source: dict[str, set[str]] = {}
        for pid, meta in zip(ids, metadatas, strict=True):
            by_source.setdefault(meta["source"], set()).add(pid)
        return by_source

    def sources_under(self, root: str) -> dict[str, str]:
        """Document name -> content hash, for the documents ingested from folder `root`."""
        _, metadatas, _ = self._get(self.sources, where={"root": root}, include=["metadatas"])
        return {m["source"]: m["sha"] for m in metadatas}

    def save_source(self, source: str, root: str, text: str, sha: str) -> None:
        """Store (or replace) the normalized text of a document."""
        self.sources.upsert(
            ids=[source_key(source)],
            documents=[text],
            embeddings=[[0.0]],  # looked up by id only; Chroma requires a vector
            metadatas=[{"source": source, "root": root, "sha": sha}],
        )

    def source_text(self, source: str) -> str | None:
        """The stored normalized text of a document, or None."""
        result = self.sources.get(ids=[source_key(source)], include=["documents"])
        return result["documents"][0] if result["ids"] else None

    def source_texts(self) -> dict[str, str]:
        """Every stored document: name -> normalized text."""
        _, metadatas, documents = self._get(self.sources, include=["metadatas", "documents"])
        return {m["source"]: text for m, text in zip(metadatas, documents, strict=True)}

    def add(self, nodes) -> None:
        """Write embedded LlamaIndex nodes."""
        self.vector_store.add(nodes)

    def delete_passages(self, ids: list[str]) -> None:
        """Remove passages by id."""
        for i in range(0, len(ids), _PAGE):
            self.passages.delete(ids=ids[i : i + _PAGE])

    def delete_source(self, source: str) -> None:
        """Remove a document's stored text and all its passages."""
        self.delete_passages(sorted(self.passage_ids(source)))
        self.sources.delete(ids=[source_key(source)])

    def all_passages(self) -> list[Passage]:
        """Every stored passage (for the keyword index)."""
        ids, metadatas, documents = self._get(self.passages, include=["metadatas", "documents"])
        return [
            Passage(pid, m["source"], text, int(m["start"]), int(m["end"]))
            for pid, m, text in zip(ids, metadatas, documents, strict=True)
        ]

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
