"""Check every sentence of an LLM's answer against the passage it cites; keep only the supported.

A sentence is supported when one sentence of a cited passage says the same thing: its support
score combines the share of the claim's words found there with their embedding similarity.
The weights (LEXICAL_WEIGHT, MIN_CLAIM_TERMS) and the threshold (RAG_VERIFY_MIN_SUPPORT) were
set by hand, not fitted by any script. The supporting sentence becomes the citation's quote,
with exact offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.sentences import sentence_spans
from rag.text import content_terms
from rag.types import Citation, Passage, Removed

LEXICAL_WEIGHT = 0.5  # the rest is embedding similarity
MIN_CLAIM_TERMS = 3  # a claim of fewer meaningful words cannot be checked ("PWNED.")
_NUMBER = re.compile(r"\d[\d,.]*")
_PROPER = re.compile(r"(?<=\w )[A-Z][\w’'-]+")
_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING_MARKERS = re.compile(r"([.!?][\"”’)]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_DRAFT_END = re.compile(r"\n\s*\n|\n(?:question|answer|sources?|\[\d+\])\b", re.I)


@dataclass(frozen=True)
class Verified:
    """The answer text that survived verification, its citations, and what was removed."""

    text: str
    citations: tuple[Citation, ...]
    removed: tuple[Removed, ...]


@dataclass(frozen=True)
class _Quote:
    passage: Passage
    start: int
    end: int
    text: str


def verify(
    draft: str,
    passages: list[Passage],
    embed: Callable[[list[str]], np.ndarray],
    min_support: float,
    relevance: Callable[[str, int], float] | None = None,
    min_relevance: float = 0.0,
    mark_unsupported: bool = False,
) -> Verified:
    """Keep the draft's supported sentences, each cited to the sentence that supports it.

    With `relevance` (quote source and start -> score), a sentence whose support does not
    answer the question is removed too: a model that copies any passage is not answering.
    """
    claims = split_claims(draft)
    quotes = [q for p in passages for q in _quotes(p)]
    if not claims or not quotes:
        return Verified("", (), tuple(Removed(c, "nothing to check it against") for c, _ in claims))
    vectors = embed([c for c, _ in claims] + [q.text for q in quotes])
    claim_vectors, quote_vectors = vectors[: len(claims)], vectors[len(claims) :]
    numbers: dict[tuple, int] = {}
    kept, citations, removed, seen = [], [], [], set()
    for (claim, markers), vector in zip(claims, claim_vectors, strict=True):
        reason, quote = _check(
            claim, markers, vector, passages, quotes, quote_vectors, min_support, seen
        )
        if quote is not None and relevance is not None:
            score = relevance(quote.passage.source, quote.start)
            if score < min_relevance:
                reason = f"does not answer the question ({score:.2f} < {min_relevance})"
                quote = None
        if quote is None:
            removed.append(Removed(claim, reason))
            if mark_unsupported and reason != "repeats an earlier sentence":
                kept.append(f"{claim} [unverified]")
            continue
        key = (quote.passage.source, quote.start, quote.end)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations.append(
                Citation(
                    numbers[key],
                    quote.passage.id,
                    quote.passage.source,
                    quote.start,
                    quote.end,
                    quote.text,
                )
            )
        kept.append(f"{claim} [{numbers[key]}]")
    return Verified(" ".join(kept), tuple(citations), tuple(removed))


def split_claims(draft: str) -> list[tuple[str, list[int]]]:
    """The draft's sentences without their markers, each with the passage numbers it cited."""
    end = _DRAFT_END.search(draft.strip())
    text = draft.strip()[: end.start()] if end else draft.strip()
    # "It rose. [1] It fell. [2]": markers after a full stop belong to the sentence before it.
    text = _TRAILING_MARKERS.sub(lambda m: f" {m.group(2).strip()}{m.group(1)}", text)
    claims = []
    for start, stop in sentence_spans(text):
        sentence = text[start:stop]
        markers = [int(n) for group in _MARKERS.findall(sentence) for n in group.split(",")]
        claim = _MARKERS.sub("", sentence).strip()
        if claim:
            claims.append((claim, markers))
    return claims


def support(claim: str, quote: str, cosine: float) -> float:
    """How well `quote` supports `claim`: shared words and embedding similarity, in [0, 1]."""
    terms = set(content_terms(claim))
    if not terms:
        return 0.0
    lexical = len(terms & set(content_terms(quote))) / len(terms)
    return LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * max(cosine, 0.0)


def new_facts(claim: str, quote: str) -> list[str]:
    """Numbers and names in the claim that the quote does not contain: the usual inventions."""
    numbers = [n.strip(".,") for n in _NUMBER.findall(claim)]
    names = _PROPER.findall(claim)
    return [fact for fact in numbers + names if fact.lower() not in quote.lower()]


def _check(claim, markers, vector, passages, quotes, quote_vectors, min_support, seen):
    """(why it fails, None) or ("", the quote that supports it)."""
    if claim.lower() in seen:
        return "repeats an earlier sentence", None
    seen.add(claim.lower())
    if len(set(content_terms(claim))) < MIN_CLAIM_TERMS:
        return "too short to check against the sources", None
    cited = {passages[n - 1].id for n in markers if 1 <= n <= len(passages)}
    pool = [i for i, q in enumerate(quotes) if not cited or q.passage.id in cited]
    scores = [(support(claim, quotes[i].text, float(quote_vectors[i] @ vector)), i) for i in pool]
    best, index = max(scores)
    if best >= min_support:
        invented = new_facts(claim, quotes[index].text)
        if invented:
            return f"states what its source does not: {', '.join(invented)}", None
        return "", quotes[index]
    where = f"its source [{', '.join(map(str, markers))}]" if cited else "any passage"
    invented = [n for n in markers if not 1 <= n <= len(passages)]
    note = f"; marker {invented} points at no passage" if invented else ""
    return f"not supported by {where} (support {best:.2f} < {min_support}){note}", None


def _quotes(passage: Passage) -> list[_Quote]:
    return [
        _Quote(passage, start, end, passage.text[start - passage.start : end - passage.start])
        for start, end in sentence_spans(passage.text, passage.start)
    ]
