"""The project's own types: what passes between ingest, retrieval, answering, UI and evals."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A span of a stored document; `source_text[start:end] == text` always holds.

    `source` is the document's display name (two documents may share it); `document_id`
    identifies the document (it defaults to the name where names are unique by construction).
    """

    id: str
    source: str
    text: str
    start: int
    end: int
    score: float = 0.0
    document_id: str = ""

    def __post_init__(self) -> None:
        if not self.document_id:
            object.__setattr__(self, "document_id", self.source)


# (paragraph start, paragraph end, start, end) of one sentence of a stored text.
SentenceSpan = tuple[int, int, int, int]


@dataclass(frozen=True)
class DocumentText:
    """A document's stored text with its sentences, found once at ingest."""

    id: str
    text: str
    sentences: tuple[SentenceSpan, ...]


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, to be scored as evidence for the question."""

    passage: Passage
    rank: int  # the retriever's rank of its passage, from 1
    start: int
    end: int
    text: str
    context: str  # the text just before it in its paragraph, which it may lean on
    paragraph_start: int
    context_start: int  # where `context` begins in the source
    vector: Any = None  # its stored embedding, None when it has none

    def with_vector(self, vector: Any) -> Candidate:
        """The same sentence with its embedding."""
        return replace(self, vector=vector)


@dataclass(frozen=True)
class RetrievalResult:
    """What one question retrieved, from one version of the library: every later stage reads
    only this value, so one answer never mixes two versions of the library."""

    question: str
    question_vector: Any  # the question's embedding by the evidence encoder (numpy)
    passages: tuple[Passage, ...]
    generation: str  # the library's generation the passages came from
    documents: Mapping[str, DocumentText]  # the retrieved passages' documents, by id
    candidates: tuple[Candidate, ...]  # their sentences, in rank and document order
    passage_total: int  # passages in the library, and how many hold each question word:
    term_passages: Mapping[str, int]  # the statistics question words are weighed by

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed question word over the library's passages."""
        held_by = self.term_passages.get(term, 0)
        return math.log((max(self.passage_total, 1) + 1) / (held_by + 0.5))


@dataclass(frozen=True)
class Document:
    """One document of the library, as `rag docs list` and the Library tab show it."""

    id: str  # stable: a hash of the file's resolved path
    name: str  # the folder's name and the path inside it, e.g. docs/history.txt
    path: str  # the file on disk it was read from
    passages: int
    chars: int
    ingested_at: str  # ISO 8601, UTC
    added_by: str = ""  # who ingested or uploaded this version


@dataclass(frozen=True)
class Citation:
    """Marker `[n]` in an answer, pointing at `quote` = source_text[start:end]."""

    n: int
    passage_id: str
    source: str
    start: int
    end: int
    quote: str
    document_id: str = ""

    def __post_init__(self) -> None:
        if not self.document_id:
            object.__setattr__(self, "document_id", self.source)

    def line(self) -> str:
        """`[n] document, characters start-end: “quote”`, on one line, for plain text."""
        quote = " ".join(self.quote.split())  # a hard-wrapped quote reads as one line
        return f"[{self.n}] {self.source}, characters {self.start}-{self.end}: \u201c{quote}\u201d"


@dataclass(frozen=True)
class Removed:
    """An answer sentence dropped by verification, and why."""

    sentence: str
    reason: str


@dataclass(frozen=True)
class Answer:
    """What the chatbot says to one question, with the evidence behind it."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    mode: str = "extractive"
    passages: tuple[Passage, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    notice: str = ""
    removed: tuple[Removed, ...] = ()
    draft: str = ""  # the LLM's text before verification (llm mode)

    def to_dict(self) -> dict:
        """The JSON shape printed by `rag ask --json` and stored by the evals."""
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        data["removed"] = [asdict(r) for r in self.removed]
        data["passages"] = [
            {
                "id": p.id,
                "source": p.source,
                "document_id": p.document_id,
                "start": p.start,
                "end": p.end,
                "score": p.score,
            }
            for p in self.passages
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The Answer `to_dict` gave (passages come without their text); keys it does not
        know (from a newer server) are ignored."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        passages = tuple(
            Passage(p["id"], p["source"], "", p["start"], p["end"], p["score"], p["document_id"])
            for p in data["passages"]
        )
        return cls(
            **{
                **data,
                "citations": tuple(Citation(**c) for c in data["citations"]),
                "removed": tuple(Removed(**r) for r in data["removed"]),
                "passages": passages,
            }
        )
