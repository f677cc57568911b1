"""Score the sentences of retrieved passages as evidence, and judge whether any answers.

Both decisions are logistic models over `rag.answering.features`, fitted by
bench/fit_scorer.py on public data (SQuAD 2.0 train articles) and stored in
rag/answering/scorer.json with a note of the data and the validation score they came from.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.answering.features import FEATURES, Question, fits_answer_type, sentence_features
from rag.language.sentences import sentence_table, states_something
from rag.types import Candidate, DocumentText, Passage

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
    passages: list[Passage], documents: Mapping[str, DocumentText]
) -> list[Candidate]:
    """Each distinct sentence of the passages (from their documents' stored sentences), read
    on to the end of the paragraph; a passage whose document is not given is read alone."""
    seen, candidates = set(), []
    for rank, passage in enumerate(passages, start=1):
        stored = documents.get(passage.document_id)
        text = stored.text if stored else passage.text
        base = 0 if stored else passage.start
        sentences = stored.sentences if stored else sentence_table(passage.text)
        # From the first sentence of the paragraph where the passage starts.
        first = bisect.bisect_right(sentences, passage.start - base, key=lambda s: s[1])
        for i in range(first, len(sentences)):
            para_start, _, start, end = sentences[i]
            if para_start + base >= passage.end:
                break
            if end + base <= passage.start or (passage.document_id, start + base) in seen:
                continue
            if not states_something(text[start:end]):
                continue
            seen.add((passage.document_id, start + base))
            context_start = _context_start(text, sentences, i)
            candidates.append(
                Candidate(
                    passage,
                    rank,
                    start + base,
                    end + base,
                    text[start:end],
                    text[context_start:start],
                    para_start + base,
                    context_start + base,
                )
            )
    return candidates


def _context_start(document: str, sentences, i: int) -> int:
    """Where the text a sentence leans on begins: the sentences before it in its paragraph,
    or, for a paragraph opening with "He"/"It", the last sentence of the paragraph before."""
    para_start, _, start, _ = sentences[i]
    same = [s for p, _, s, _ in sentences[max(0, i - CONTEXT_SENTENCES) : i] if p == para_start]
    if same:
        return same[0]
    if i and LEANS_BACK.match(document[start:]):
        return sentences[i - 1][2]
    return start


def score_sentences(
    question: Question,
    candidates: list[Candidate],
    embed: Callable[[list[str]], np.ndarray],
    scorer: Scorer,
    embed_sentences: Callable[[list[str]], np.ndarray] | None = None,
) -> list[Evidence]:
    """The candidates scored by the fitted sentence model, best first. `embed` gives words'
    embeddings (near-synonyms); `embed_sentences` those of candidates stored without one
    (default: `embed`)."""
    if not candidates:
        return []
    texts = [_flat(c.text) for c in candidates]
    rows = sentence_features(
        question,
        texts,
        [_flat(c.context) for c in candidates],
        _vectors(candidates, texts, embed_sentences or embed),
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


def _vectors(candidates: list[Candidate], texts: list[str], embed) -> np.ndarray:
    """The candidates' stored embeddings; those without one (a passage read without its
    document) are embedded now."""
    missing = [t for c, t in zip(candidates, texts, strict=True) if c.vector is None]
    fresh = iter(embed(missing)) if missing else iter(())
    return np.stack(
        [
            np.asarray(c.vector, np.float32) if c.vector is not None else next(fresh)
            for c in candidates
        ]
    )


def _flat(text: str) -> str:
    """A hard-wrapped sentence as one line, for the embedding model and word matching."""
    return " ".join(text.split())


def answering_evidence(
    question: Question, scored: list[Evidence], scorer: Scorer, min_answerable: float | None
) -> list[Evidence]:
    """The scored sentences that hold the kind of answer asked for, best first, or [] when
    the sources do not answer the question: the one answerability decision of both modes."""
    floor = scorer.min_answerable if min_answerable is None else min_answerable
    fitting = [e for e in scored if fits_answer_type(question, e.text)]
    if not fitting or answerability(fitting, scorer) < floor:
        return []
    return fitting
