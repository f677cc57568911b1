"""Every metric on hand-made answers whose scores are known."""

from dataclasses import replace

import pytest

from evals.gold import GoldItem
from evals.metrics import (
    ItemResult,
    Span,
    compute,
    compute_by_mode,
    hits,
    includes_all,
    judge,
    locate,
    markers,
)
from rag.types import Answer, Citation, Passage

DOC = "doc.txt"
TEXT = "Alpha beta gamma delta. The cat sat on the mat quietly. Epsilon zeta eta theta iota."
CAT = Span(DOC, TEXT.index("The cat"), TEXT.index("quietly.") + len("quietly."))


def cite(n, phrase):
    start = TEXT.index(phrase)
    return Citation(n, "p", DOC, start, start + len(phrase), phrase)


def result(
    answerable,
    text,
    citations=(),
    refused=False,
    spans=(CAT,),
    must=(("cat",),),
    passages=(),
    latency=10.0,
):
    item = GoldItem(
        id="i",
        question="q?",
        must_include=[list(g) for g in must],
        evidence=["x"] if answerable else [],
        answerable=answerable,
    )
    answer = Answer("q?", text, tuple(citations), refused, passages=tuple(passages))
    return ItemResult(item, answer, list(spans) if answerable else [], latency)


def test_overlap_needs_ten_characters_or_the_whole_short_span():
    assert hits(DOC, CAT.start, CAT.start + 10, CAT)
    assert not hits(DOC, CAT.start - 5, CAT.start + 9, CAT)
    assert not hits("other.txt", CAT.start, CAT.end, CAT)
    short = Span(DOC, 0, 5)
    assert hits(DOC, 0, 5, short) and not hits(DOC, 1, 5, short)


def test_locate_finds_evidence_verbatim_and_respects_the_source():
    texts = {"a/doc.txt": TEXT, "b/other.txt": "nothing"}
    assert locate("The cat sat", texts) == Span("a/doc.txt", CAT.start, CAT.start + 11)
    assert locate("The cat sat", texts, source="other.txt") is None
    assert locate("The dog", texts) is None


def test_includes_all_is_case_insensitive_and_needs_every_group():
    assert includes_all("The CAT sat", [["cat", "dog"], ["sat"]])
    assert not includes_all("The cat", [["cat"], ["mat"]])


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("Education matters.", "duc", False),
        ("She said so.", "AI", False),
        ("Rising AI star.", "AI", True),
        ("The problem is #P-complete.", "#P", True),
        ("Aged 60, he left.", "60", True),
        ("In 1960 he left.", "60", False),
        ("He felt a degree of\n   patriotism.", "degree of patriotism", True),
        ("Lee was asleep.", "lee", True),
        ("He was asleep.", "lee", False),
    ],
)
def test_must_include_matches_whole_words_and_phrases_only(text, phrase, found):
    assert includes_all(text, [[phrase]]) is found


def test_markers_are_read_in_every_form():
    assert markers("A [1]. B [1, 2]. C [3][4]. D [12,13].") == [1, 1, 2, 3, 4, 12, 13]


def test_a_foreign_bracketed_number_fails_validity():
    copied = result(True, "The cat sat on the mat [3] quietly. [1]", [cite(1, "The cat sat")])
    assert compute([copied])["citation_validity"] == pytest.approx(1 / 2)
    grouped = result(True, "The cat sat [1, 2]", [cite(1, "The cat sat")])
    assert compute([grouped])["citation_validity"] == pytest.approx(1 / 2)


def test_metrics_by_the_mode_that_produced_each_answer():
    llm = result(True, "The cat sat on the mat. [1]", [cite(1, "The cat sat on the mat")])
    llm.answer = replace(llm.answer, mode="llm")
    fallback = result(True, "Alpha beta gamma [1]", [cite(1, "Alpha beta gamma")])
    split = compute_by_mode([llm, fallback])
    assert split["answers_by_mode"] == {"extractive": 1, "llm": 1}
    assert split["by_mode"]["llm"]["citation_precision"] == 1.0
    assert split["by_mode"]["extractive"]["citation_precision"] == 0.0


def test_a_hit_a_miss_a_refusal_and_an_invented_marker():
    good = result(True, "The cat sat on the mat quietly. [1]", [cite(1, "The cat sat on the mat")])
    miss = result(
        True,
        "Alpha beta gamma [1] and the cat [2] [3]",
        [cite(1, "Alpha beta gamma"), cite(2, "cat sat on the mat")],
    )
    refused = result(True, "The sources do not say.", refused=True)
    unanswerable_refused = result(False, "The sources do not say.", refused=True)
    unanswerable_answered = result(False, "Epsilon zeta [1]", [cite(1, "Epsilon zeta")])
    m = compute([good, miss, refused, unanswerable_refused, unanswerable_answered])
    assert m["answer_accuracy"] == pytest.approx(2 / 3, abs=1e-4)  # refused one lacks the answer
    assert m["citation_precision"] == pytest.approx(
        2 / 3, abs=1e-4
    )  # 3 citations on answerable, 2 hit
    assert m["citation_recall"] == pytest.approx(
        2 / 3, abs=1e-4
    )  # 3 spans, the refused one uncited
    assert m["citation_validity"] == pytest.approx(4 / 5, abs=1e-4)  # [3] resolves to nothing
    assert m["refusal_accuracy"] == pytest.approx(1 / 2, abs=1e-4)
    assert m["false_refusal_rate"] == pytest.approx(1 / 3, abs=1e-4)
    quotes = [22, 16, 18, 12]
    assert m["mean_cited_chars"] == pytest.approx(sum(quotes) / 4, abs=0.1)


def test_retrieval_hit_at_k_and_mrr_use_passage_overlap():
    first = Passage("a", DOC, TEXT[CAT.start : CAT.end], CAT.start, CAT.end)
    other = Passage("b", DOC, TEXT[:23], 0, 23)
    at_1 = result(True, "x", passages=[first, other])
    at_2 = result(True, "x", passages=[other, first])
    never = result(True, "x", passages=[other])
    m = compute([at_1, at_2, never])
    assert m["retrieval_hit_at_k"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)


def test_latency_percentiles():
    results = [result(True, "x", latency=float(ms)) for ms in range(1, 101)]
    m = compute(results)
    assert m["latency_p50_ms"] in (50.0, 51.0)
    assert m["latency_p95_ms"] in (95.0, 96.0)


def test_judge_explains_failures():
    assert judge(result(False, "Epsilon [1]", [cite(1, "Epsilon")])) == [
        "answered an unanswerable question"
    ]
    reasons = judge(result(True, "Alpha [1]", [cite(1, "Alpha beta gamma")]))
    assert any("lacks" in r for r in reasons) and any("misses" in r for r in reasons)
    assert judge(result(True, "The cat [1]", [cite(1, "The cat sat on the mat")])) == []
