"""Every metric on hand-made answers whose scores are known."""

import pytest

from evals.gold import GoldItem
from evals.metrics import ItemResult, Span, compute, hits, includes_all, judge, locate
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
        "i",
        "q?",
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
