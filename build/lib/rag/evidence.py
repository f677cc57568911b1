"""Score the sentences of retrieved passages as evidence, and judge whether any answers.

Both decisions are logistic models over `rag.features`, fitted by bench/fit_scorer.py on
public data (SQuAD 2.0 train articles) and stored in rag/scorer.json with a note of the data
and the validation score they came from.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.features import FEATURES, Question, sentence_features
from rag.sentences import paragraph_sentences, paragraph_spans
from rag.types import Passage

MODEL_PATH = Path(__file__).resolve().parent / "scorer.json"
# Sentences of the same paragraph before a candidate that count as its context.
CONTEXT_SENTENCES = 2
# A sentence that opens with one of these leans on the text before it for its subject.
LEANS_BACK = re.compile(r"\W*(he|she|they|it|its|his|her|their|this|these|those|such)\b", re.I)


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage, located in its source, with its support score."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float  # probability, by the fitted model, that the sentence answers the question
    features: tuple[float, ...] = ()
    paragraph_start: int = 0  # where the sentence's paragraph begins in the source
    context_start: int = 0  # where the text it leans on ("He ..." needs a name) begins


@dataclass(frozen=True)
class Candidate:
    """A sentence to be scored, with the text just before it in its paragraph."""

    passage: Passage
    rank: int
    start: int
    end: int
    text: str
    context: str
    paragraph_start: int
    context_start: int  # where `context` begins in the source


@dataclass(frozen=True)
class LogisticModel:
    """A standardized logistic regression: the probability of the positive class."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """P(positive) for each row of features."""
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def from_dict(cls, data: dict) -> LogisticModel:
        """The model as bench/fit_scorer.py writes it."""
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], np.float32),
            np.asarray(data["scale"], np.float32),
            np.asarray(data["coef"], np.float32),
            float(data["intercept"]),
        )


@dataclass(frozen=True)
class Scorer:
    """The fitted sentence model, answerability model and the thresholds chosen for them."""

    sentence: LogisticModel
    answerable: LogisticModel
    min_answerable: float  # least answerability for an answer rather than a refusal
    extra_margin: float  # a further sentence is quoted when this close to the best one's score


@lru_cache(maxsize=2)
def load_scorer(path: Path = MODEL_PATH) -> Scorer:
    """The committed model file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Scorer(
        LogisticModel.from_dict(data["sentence"]),
        LogisticModel.from_dict(data["answerable"]),
        float(data["thresholds"]["min_answerable"]),
        float(data["thresholds"]["extra_margin"]),
    )


def candidate_sentences(
    passages: list[Passage], source_text: Callable[[str], str | None]
) -> list[Candidate]:
    """Each distinct sentence of the passages, read on to the end of the paragraph."""
    seen, candidates = set(), []
    for rank, passage in enumerate(passages, start=1):
        document = source_text(passage.document_id) or passage.text
        base = 0 if source_text(passage.document_id) else passage.start
        sentences = _sentences(document)
        # From the first sentence of the paragraph where the passage starts.
        first = bisect.bisect_right(sentences, passage.start - base, key=lambda s: s[1])
        for i in range(first, len(sentences)):
            para_start, _, start, end = sentences[i]
            if para_start + base >= passage.end:
                break
            if end + base <= passage.start or (passage.document_id, start + base) in seen:
                continue
            if not states_something(document[start:end]):
                continue
            seen.add((passage.document_id, start + base))
            context_start = _context_start(document, sentences, i)
            candidates.append(
                Candidate(
                    passage,
                    rank,
                    start + base,
                    end + base,
                    document[start:end],
                    document[context_start:start],
                    para_start + base,
                    context_start + base,
                )
            )
    return candidates


def _context_start(document: str, sentences: list, i: int) -> int:
    """Where the text a sentence leans on begins: the sentences before it in its paragraph,
    or, for a paragraph opening with "He"/"It", the last sentence of the paragraph before."""
    para_start, _, start, _ = sentences[i]
    same = [s for p, _, s, _ in sentences[max(0, i - CONTEXT_SENTENCES) : i] if p == para_start]
    if same:
        return same[0]
    if i and LEANS_BACK.match(document[start:]):
        return sentences[i - 1][2]
    return start


@lru_cache(maxsize=256)
def _sentences(document: str) -> list[tuple[int, int, int, int]]:
    """(paragraph start, paragraph end, start, end) of every sentence, in order; each
    document is segmented once per process."""
    return [
        (para_start, para_end, start, end)
        for para_start, para_end in paragraph_spans(document)
        for start, end in paragraph_sentences(document, para_start, para_end)
    ]


# Fewer words than this is a heading or a label ("sudo", "DESCRIPTION"), not a statement.
MIN_STATEMENT_WORDS = 4


def states_something(sentence: str) -> bool:
    """A sentence that could answer: a statement, not a question or a heading."""
    return not sentence.rstrip().endswith("?") and len(sentence.split()) >= MIN_STATEMENT_WORDS


def score_sentences(
    question: Question,
    candidates: list[Candidate],
    embed: Callable[[list[str]], np.ndarray],
    scorer: Scorer,
) -> list[Evidence]:
    """The candidates scored by the fitted sentence model, best first."""
    if not candidates:
        return []
    texts = [_flat(c.text) for c in candidates]
    rows = sentence_features(
        question,
        texts,
        [_flat(c.context) for c in candidates],
        embed(texts),
        [c.rank for c in candidates],
        embed,
    )
    scores = scorer.sentence.probability(rows)
    evidence = [
        Evidence(
            c.passage,
            c.start,
            c.end,
            c.text,
            round(float(s), 4),
            tuple(map(float, row)),
            c.paragraph_start,
            c.context_start,
        )
        for c, s, row in zip(candidates, scores, rows, strict=True)
    ]
    return sorted(evidence, key=lambda e: -e.score)


ANSWERABILITY_FEATURES = ("best", "second_gap", "dense", "overlap", "names", "max_dense")


def answerability_row(scored: list[Evidence]) -> np.ndarray:
    """What the best-scored sentences say about whether the sources answer at all."""
    if not scored:
        return np.zeros(len(ANSWERABILITY_FEATURES), np.float32)
    best = scored[0]
    f = dict(zip(FEATURES, best.features, strict=True))
    second = scored[1].score if len(scored) > 1 else 0.0
    max_dense = max(dict(zip(FEATURES, e.features, strict=True))["dense"] for e in scored)
    return np.asarray(
        [best.score, best.score - second, f["dense"], f["overlap"], f["names"], max_dense],
        np.float32,
    )


def answerability(scored: list[Evidence], scorer: Scorer) -> float:
    """Probability, by the fitted model, that the scored sentences answer the question."""
    if not scored:
        return 0.0
    return round(float(scorer.answerable.probability(answerability_row(scored)[None, :])[0]), 4)


def _flat(text: str) -> str:
    """A hard-wrapped sentence as one line, for the embedding model and word matching."""
    return " ".join(text.split())
