"""The offline synthesizer: an answer made of the best source sentences, each with its marker."""

from __future__ import annotations

from rag.evidence import Evidence, fits_answer_type
from rag.types import Citation

# A sentence joins the best one when its score is this close to it.
SCORE_MARGIN = 0.01
# The next sentence of the same paragraph joins a chosen one when it goes on with the same
# subject ("Its broad strengths...") and scores at least this.
CONTINUATION_SUPPORT = 0.5


def select_evidence(
    question: str,
    scored: list[Evidence],
    min_support: float,
    most: int,
    margin: float = SCORE_MARGIN,
    continuation: float = CONTINUATION_SUPPORT,
) -> list[Evidence]:
    """The few sentences that answer the question, in document order; [] when none does."""
    usable = [e for e in scored if e.score >= min_support and fits_answer_type(question, e.text)]
    if not usable:
        return []
    chosen = [e for e in usable if e.score >= usable[0].score - margin][:most]
    for e in list(chosen):
        following = [
            f
            for f in scored
            if f.passage.source == e.passage.source
            and 0 < f.start - e.end <= 2
            and f.continues
            and f.score >= continuation
        ]
        if following and following[0] not in chosen and len(chosen) < most:
            chosen.append(following[0])
    return sorted(chosen, key=lambda e: (e.passage.source, e.start))


def compose(evidence: list[Evidence]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text "sentence [1] sentence [2]" and its citations numbered in order."""
    citations = tuple(
        Citation(n, e.passage.id, e.passage.source, e.start, e.end, e.text)
        for n, e in enumerate(evidence, start=1)
    )
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return text, citations
