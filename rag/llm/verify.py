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

from rag.language.sentences import sentence_spans
from rag.language.words import content_terms
from rag.types import Citation, Passage, Removed

LEXICAL_WEIGHT = 0.5  # the rest is embedding similarity
MIN_CLAIM_TERMS = 3  # a claim of fewer meaningful words cannot be checked ("PWNED.")
_NUMBER = re.compile(r"\d[\d,.]*")
_PROPER = re.compile(r"(?<=\w )[A-Z][\w’'-]+")
_POSSESSIVE = re.compile(r"['’]s?$")
ECHOED = "the model went on past its answer (echoing the prompt)"
_ANSWER_PARTICLE = re.compile(r"^\W*(?:no|yes)\b\W*", re.I)
# Words that turn a statement into its opposite; a claim and its quote must agree on them.
_NEGATION = re.compile(
    r"\b(not|no|never|none|nobody|nothing|neither|nor|cannot|without|lacks?|lacked|"
    r"\w+n['’]t)\b",
    re.I,
)
_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING_MARKERS = re.compile(r"([.!?][\"”’)]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
# A small model often goes on past its answer by echoing the prompt ("Question: ...").
_DRAFT_END = re.compile(r"\n\s*(?:question|answer|sources?)\s*:|\n\s*\[\d+\]\s", re.I)


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
    echoed = _echoed_prompt(draft)
    quotes = [q for p in passages for q in _quotes(p)]
    if not claims or not quotes:
        removed = [Removed(c, "nothing to check it against") for c, _ in claims]
        return Verified("", (), tuple(removed + echoed))
    vectors = embed([c for c, _ in claims] + [q.text for q in quotes])
    claim_vectors, quote_vectors = vectors[: len(claims)], vectors[len(claims) :]
    numbers: dict[tuple, int] = {}
    kept, citations, removed, seen = [], [], [], set()
    for (claim, markers), vector in zip(claims, claim_vectors, strict=True):
        reason, quote = _check(
            claim, markers, vector, passages, quotes, quote_vectors, min_support, seen
        )
        if quote is not None and relevance is not None:
            score = relevance(quote.passage.document_id, quote.start)
            if score < min_relevance:
                reason = f"does not answer the question ({score:.2f} < {min_relevance})"
                quote = None
        if quote is None:
            removed.append(Removed(claim, reason))
            if mark_unsupported and reason != "repeats an earlier sentence":
                kept.append(f"{claim} [unverified]")
            continue
        key = (quote.passage.document_id, quote.start, quote.end)
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
                    quote.passage.document_id,
                )
            )
        kept.append(f"{claim} [{numbers[key]}]")
    return Verified(" ".join(kept), tuple(citations), tuple(removed + echoed))


def _echoed_prompt(draft: str) -> list[Removed]:
    """What follows the answer when the model echoes the prompt: never dropped silently."""
    end = _DRAFT_END.search(draft.strip())
    rest = draft.strip()[end.start() :].strip() if end else ""
    return (
        [Removed(rest[:300], "the model went on past its answer (echoing the prompt)")]
        if rest
        else []
    )


def split_claims(draft: str) -> list[tuple[str, list[int]]]:
    """The draft's sentences (every paragraph, up to any echo of the prompt) without their
    markers, each with the passage numbers it cited."""
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


def new_facts(claim: str, quote: str, known_names: frozenset[str] = frozenset()) -> list[str]:
    """Numbers and names in the claim that the quote does not contain: the usual inventions.

    A possessive ("Liu Jun's") names the same person as "Liu Jun". A claim's first word
    counts as a name when the sources write it capitalized mid-sentence (`known_names`).
    """
    numbers = [_number(n) for n in _NUMBER.findall(claim)]
    names = [_POSSESSIVE.sub("", n) for n in _PROPER.findall(claim)]
    first = re.match(r"\W*([A-Z][\w’'-]+)", claim)
    if first and _POSSESSIVE.sub("", first.group(1)) in known_names:
        names.append(_POSSESSIVE.sub("", first.group(1)))  # "Chen said ...": a name, first
    quoted = {_number(n) for n in _NUMBER.findall(quote)}
    invented = [n for n in numbers if n not in quoted]
    return invented + [n for n in names if n and n.lower() not in quote.lower()]


def contradicts(claim: str, quote: str) -> bool:
    """True when the claim negates what its quote affirms ("never loved" vs "loved"), or
    affirms what the quote negates ("had" vs "had not had"); an answer's leading "No," and a
    quote's "not only" are not negations."""
    claim = _ANSWER_PARTICLE.sub("", claim)
    claimed, quoted = _negations(claim), _negations(quote)
    if len(claimed) > len(quoted):
        return True
    claim_terms = set(content_terms(claim))
    # A negation in the quote matters when the claim states what it negates.
    return any(
        (after := content_terms(quote[cue.end() :])[:2]) and set(after) <= claim_terms
        for cue in quoted[len(claimed) :]
    )


def _negations(text: str) -> list[re.Match]:
    return list(_NEGATION.finditer(re.sub(r"\bnot only\b", "   ", text, flags=re.I)))


def _number(text: str) -> str:
    return text.replace(",", "").strip(".")


def _check(claim, markers, vector, passages, quotes, quote_vectors, min_support, seen):
    """(why it fails, None) or ("", the quote that supports it)."""
    if claim.lower() in seen:
        return "repeats an earlier sentence", None
    seen.add(claim.lower())
    terms = set(content_terms(claim))
    cited = {passages[n - 1].id for n in markers if 1 <= n <= len(passages)}
    pool = [i for i, q in enumerate(quotes) if not cited or q.passage.id in cited]
    scores = [(support(claim, quotes[i].text, float(quote_vectors[i] @ vector)), i) for i in pool]
    best, index = max(scores)
    if len(terms) < MIN_CLAIM_TERMS and not (
        terms and terms <= set(content_terms(quotes[index].text))
    ):
        # A short answer ("Tsinghua University.") stands only when its source says every word
        # of it; whether that source answers the question is the relevance check's job.
        return "too short to check against the sources", None
    if best >= min_support or len(terms) < MIN_CLAIM_TERMS:
        names = frozenset(_POSSESSIVE.sub("", n) for q in quotes for n in _PROPER.findall(q.text))
        invented = new_facts(claim, quotes[index].text, names)
        if invented:
            return f"states what its source does not: {', '.join(invented)}", None
        if contradicts(claim, quotes[index].text):
            return "says the opposite of its source (negation)", None
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
