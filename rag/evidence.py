"""Sentence-level evidence: score the sentences of retrieved passages against the question."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.text import content_terms, sentence_spans
from rag.types import Passage

# Weight of meaning (embedding cosine) against wording (question terms found) in a score.
DENSE_WEIGHT = 0.5
# Terms found only in the sentence before count this much: "He accepted..." after "Liu Jun...".
CONTEXT_CREDIT = 0.5

_QUANTITY_QUESTION = re.compile(
    r"\bhow (much|many|old|long)\b|\bwhat (age|percentage|number|amount|sum)\b|\bat what age\b",
    re.I,
)
_DATE_QUESTION = re.compile(
    r"^\W*when\b|\b(what|which|in which|in what) (year|month|day|date)\b", re.I
)
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|"
           r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"\b((1[89]|20)\d\d|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|"
                   r"saturday|sunday|this year|last year|decades?|years? ago)\b", re.I)
_YEAR_OR_DAY = re.compile(rf"\b(1[89]|20)\d\d\b|\b({_MONTHS})\.? \d{{1,2}}\b", re.I)
_QUANTITY = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozens?|"
    r"half)\b",
    re.I,
)


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage, located in its source, with its support score."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float
    dense: float
    coverage: float


def score_sentences(
    question: str,
    question_vector: np.ndarray,
    passages: list[Passage],
    embed: Callable[[list[str]], np.ndarray],
    idf: Callable[[str], float],
) -> list[Evidence]:
    """Every distinct sentence of the passages, scored against the question, best first."""
    candidates = _candidate_sentences(passages)
    if not candidates:
        return []
    vectors = embed([text for _, _, _, text, _ in candidates])
    dense = vectors @ question_vector
    terms = set(content_terms(question))
    weights = {t: idf(t) for t in terms}
    scored = []
    for (passage, start, end, text, context), cosine in zip(candidates, dense, strict=True):
        coverage = term_coverage(weights, set(content_terms(text)), set(content_terms(context)))
        score = DENSE_WEIGHT * float(cosine) + (1 - DENSE_WEIGHT) * coverage
        scored.append(Evidence(passage, start, end, text, round(score, 4),
                               round(float(cosine), 4), round(coverage, 4)))
    return sorted(scored, key=lambda e: -e.score)


def term_coverage(weights: dict[str, float], sentence: set[str], context: set[str]) -> float:
    """IDF-weighted share of the question's terms found in the sentence (or just before it)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    found = sum(w * (1.0 if t in sentence else CONTEXT_CREDIT if t in context else 0.0)
                for t, w in weights.items())
    return found / total


def fits_answer_type(question: str, sentence: str) -> bool:
    """False when the question asks for a quantity or a date the sentence does not contain."""
    if _QUANTITY_QUESTION.search(question):
        return bool(_QUANTITY.search(_YEAR_OR_DAY.sub(" ", sentence)))
    if _DATE_QUESTION.search(question):
        return bool(_DATE.search(sentence))
    return True


def _candidate_sentences(passages: list[Passage]):
    """(passage, start, end, text, preceding sentence) for each sentence, once per location."""
    seen, candidates = set(), []
    for passage in passages:
        spans = sentence_spans(passage.text, passage.start)
        for i, (start, end) in enumerate(spans):
            if (passage.source, start) in seen:
                continue
            seen.add((passage.source, start))
            text = passage.text[start - passage.start : end - passage.start]
            context = _preceding(passage, spans, i)
            candidates.append((passage, start, end, text, context))
    return candidates


def _preceding(passage: Passage, spans, i: int) -> str:
    if i == 0:
        return ""
    start, end = spans[i - 1]
    return passage.text[start - passage.start : end - passage.start]
