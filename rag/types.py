"""The project's own types: what passes between ingest, retrieval, answering, UI and evals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


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
