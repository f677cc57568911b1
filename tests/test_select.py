"""The fewest sentences that answer: one unless another states a further part, the best first,
never more than the most allowed (lead-ins included)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answering.evidence import ANSWERABILITY_FEATURES, Evidence, LogisticModel, Scorer
from rag.answering.extractive import select_evidence
from rag.answering.features import FEATURES, Question
from rag.types import Passage

TEXT = (
    "The mill opened in 1820. It ground flour for three villages. Its wheel broke in 1911. "
    "A museum took over the building. He restored the wheel in 1990. Visitors came back."
)


def _evidence(score: float, sentence: str, context_start: int | None = None) -> Evidence:
    start = TEXT.index(sentence)
    passage = Passage("p", "mill.txt", TEXT, 0, len(TEXT), document_id="mill")
    return Evidence(
        passage,
        start,
        start + len(sentence),
        sentence,
        score,
        (0.5,) * len(FEATURES),
        0,
        start if context_start is None else context_start,
    )


def _question(parts: int = 1) -> Question:
    return Question("q", np.zeros(3), {}, {}, frozenset(), (), "other", False, parts)


@pytest.fixture
def scorer() -> Scorer:
    # An answerability model that always answers, so that only selection is tested.
    names = ANSWERABILITY_FEATURES
    always = LogisticModel(
        names, np.zeros(len(names)), np.ones(len(names)), np.zeros(len(names)), 5.0
    )
    return Scorer(always, always, min_answerable=0.5, extra_margin=0.05)


def test_one_sentence_when_no_other_comes_close(scorer):
    scored = [
        _evidence(0.9, "Its wheel broke in 1911."),
        _evidence(0.6, "The mill opened in 1820."),
    ]
    chosen = select_evidence(_question(), scored, scorer, most=3)
    assert [e.text for e in chosen] == ["Its wheel broke in 1911."]


def test_the_best_comes_first_and_the_rest_in_document_order(scorer):
    scored = [
        _evidence(0.9, "Its wheel broke in 1911."),
        _evidence(0.88, "A museum took over the building."),
        _evidence(0.87, "The mill opened in 1820."),
    ]
    chosen = select_evidence(_question(), scored, scorer, most=3)
    assert [e.text for e in chosen] == [
        "Its wheel broke in 1911.",
        "The mill opened in 1820.",
        "A museum took over the building.",
    ]


def test_a_lead_in_counts_against_the_most_allowed(scorer):
    """ "He restored ..." brings the sentence it leans on, just before it; with at most two
    sentences, nothing else fits."""
    lead = _evidence(0.5, "A museum took over the building.")
    he = _evidence(0.95, "He restored the wheel in 1990.", context_start=lead.start)
    close = _evidence(0.94, "Visitors came back.")
    chosen = select_evidence(_question(), [he, close, lead], scorer, most=2)
    assert [e.text for e in chosen] == [lead.text, he.text]
    for most in (1, 2, 3):
        assert len(select_evidence(_question(), [he, close, lead], scorer, most=most)) <= max(
            1, most
        )


def test_a_two_part_question_gets_a_sentence_for_each_part(scorer):
    scored = [
        _evidence(0.9, "Its wheel broke in 1911."),
        _evidence(0.5, "The mill opened in 1820."),
    ]
    chosen = select_evidence(_question(parts=2), scored, scorer, most=3)
    assert len(chosen) == 2
