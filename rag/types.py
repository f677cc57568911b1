"""The project's own types: what passes between ingest, retrieval, answering, UI and evals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Passage:
    """A span of a stored document; `source_text[start:end] == text` always holds."""

    id: str
    source: str
    text: str
    start: int
    end: int
    score: float = 0.0


@dataclass(frozen=True)
class Citation:
    """Marker `[n]` in an answer, pointing at `quote` = source_text[start:end]."""

    n: int
    passage_id: str
    source: str
    start: int
    end: int
    quote: str


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
            {"id": p.id, "source": p.source, "start": p.start, "end": p.end, "score": p.score}
            for p in self.passages
        ]
        return data
