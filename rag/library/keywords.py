"""The keyword index: SQLite FTS5 (BM25 ranking) over every passage, persisted beside the store.

It is derived from the store, never the truth: each document's passages are indexed under the
hash of its stored text, and `sync` brings the index in line with the store by comparing those
hashes whenever the library's generation changes. Opening a library therefore reads nothing
but one row; adding or removing a document touches only its own rows, and a Chroma server
shared by many machines stays the one source of truth (each keeps its own derived index).

The same tables count, per stemmed content word, how many passages hold it: the statistics
the evidence scorer weighs question words by.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from rag.language.words import STOPWORDS, content_terms
from rag.types import Passage

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS passage_text USING fts5(
    text, id UNINDEXED, document UNINDEXED, source UNINDEXED, start UNINDEXED, stop UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, sha TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, passages INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TOKEN = re.compile(r"\w+", re.UNICODE)


class KeywordIndex:
    """Passages by BM25 over their words; one SQLite file, safe to share between threads."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")  # another process may be syncing
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            self._db.close()

    @property
    def generation(self) -> str:
        """The store generation this index was last brought in line with."""
        return self._state("generation")

    def hashes(self) -> dict[str, str]:
        """Document id -> hash of the text its indexed passages came from."""
        with self._lock:
            return dict(self._db.execute("SELECT id, sha FROM documents"))

    def sync(
        self,
        generation: str,
        stored: Mapping[str, str],
        passages_of: Callable[[list[str]], Mapping[str, list[Passage]]],
    ) -> tuple[int, int]:
        """Bring the index in line with a store whose documents have the `stored` hashes;
        `passages_of(ids)` gives the stored passages of documents that changed. Returns how
        many documents were (re)indexed and how many dropped."""
        with self._lock:
            local = self.hashes()
            changed = sorted(d for d, sha in stored.items() if local.get(d) != sha)
            gone = sorted(set(local) - set(stored))
            fresh = passages_of(changed) if changed else {}
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for document in gone + changed:
                    self._drop(document)
                for document in changed:
                    self._add(document, stored[document], fresh.get(document, []))
                self._set_state("generation", generation)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return len(changed), len(gone)

    def search(self, question: str, limit: int, scope: Iterable[str] = ()) -> list[Passage]:
        """The passages best matching the question's words by BM25, best first; only from
        the documents in `scope`, when it is given."""
        query = match_query(question)
        if not query:
            return []
        scope = sorted(scope)
        where = f"AND document IN ({','.join('?' * len(scope))})" if scope else ""
        sql = (
            "SELECT id, source, text, start, stop, document, bm25(passage_text) AS rank "
            f"FROM passage_text WHERE passage_text MATCH ? {where} ORDER BY rank, id LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, [query, *scope, limit]).fetchall()
        return [
            Passage(pid, source, text, int(start), int(stop), round(-rank, 6), document)
            for pid, source, text, start, stop, document, rank in rows
        ]

    def passage_ids(self) -> set[str]:
        """Ids of every indexed passage."""
        with self._lock:
            return {pid for (pid,) in self._db.execute("SELECT id FROM passage_text")}

    def indexed(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` whose passages are indexed (the library as of the last sync)."""
        ids = sorted(set(ids))
        if not ids:
            return set()
        with self._lock:
            rows = self._db.execute(
                f"SELECT id FROM passage_text WHERE id IN ({','.join('?' * len(ids))})", ids
            )
            return {pid for (pid,) in rows}

    def passage_count(self) -> int:
        """How many passages are indexed."""
        with self._lock:
            return int(self._state("passages") or 0)

    def document_frequency(self, terms: Iterable[str]) -> dict[str, int]:
        """How many passages hold each stemmed term (absent terms: 0)."""
        terms = sorted(set(terms))
        if not terms:
            return {}
        with self._lock:
            rows = self._db.execute(
                f"SELECT term, passages FROM terms WHERE term IN ({','.join('?' * len(terms))})",
                terms,
            )
            found = dict(rows)
        return {t: int(found.get(t, 0)) for t in terms}

    def _add(self, document: str, sha: str, passages: list[Passage]) -> None:
        self._db.executemany(
            "INSERT INTO passage_text (text, id, document, source, start, stop) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(p.text, p.id, document, p.source, p.start, p.end) for p in passages],
        )
        self._count_terms(passages, +1)
        self._db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?)", (document, sha))

    def _drop(self, document: str) -> None:
        rows = self._db.execute(
            "SELECT text FROM passage_text WHERE document = ?", (document,)
        ).fetchall()
        self._count_terms([text for (text,) in rows], -1)
        self._db.execute("DELETE FROM passage_text WHERE document = ?", (document,))
        self._db.execute("DELETE FROM documents WHERE id = ?", (document,))

    def _count_terms(self, passages: list, sign: int) -> None:
        counts = Counter(
            term
            for p in passages
            for term in set(content_terms(p.text if isinstance(p, Passage) else p))
        )
        self._db.executemany(
            "INSERT INTO terms VALUES (?, ?) ON CONFLICT(term) DO UPDATE "
            "SET passages = passages + excluded.passages",
            [(term, sign * n) for term, n in counts.items()],
        )
        self._db.execute("DELETE FROM terms WHERE passages <= 0")
        total = int(self._state("passages") or 0) + sign * len(passages)
        self._set_state("passages", str(total))

    def _state(self, key: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else ""

    def _set_state(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))


def match_query(question: str) -> str:
    """An FTS5 query matching any content word of the question (each quoted, so that words
    like NOT or NEAR and punctuation are never read as query syntax)."""
    tokens = [t for t in _TOKEN.findall(question.lower()) if t not in STOPWORDS]
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(tokens))
