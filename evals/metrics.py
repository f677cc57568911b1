"""The metrics of DESIGN.md, as pure functions of answers and located gold evidence."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from evals.gold import GoldItem
from rag.llm.verify import split_claims
from rag.types import Answer

MIN_OVERLAP = 10  # characters a citation must share with an evidence span to hit it
# "[1]", "[1, 2]" and "[1][2]" (the last is two matches).
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def markers(text: str) -> list[int]:
    """Every citation number in an answer's text, in order, in any of the accepted forms."""
    return [int(n) for group in _MARKER.findall(text) for n in group.split(",")]


@dataclass(frozen=True)
class Span:
    """A located gold evidence string: `source` text [start, end)."""

    source: str
    start: int
    end: int


@dataclass
class ItemResult:
    """One gold item's answer, judged."""

    item: GoldItem
    answer: Answer
    spans: list[Span]
    latency_ms: float
    failures: list[str] = field(default_factory=list)


def locate(evidence: str, texts: dict[str, str], source: str | None = None) -> Span | None:
    """Where an evidence string occurs (in `source` when given, else in any document):
    verbatim, or with its spaces standing for any whitespace (a hard-wrapped sentence copied
    onto one line)."""
    loose = re.compile(r"\s+".join(re.escape(word) for word in evidence.split()))
    for name, text in texts.items():
        if source and name != source and not name.endswith("/" + source):
            continue
        at = text.find(evidence)
        if at >= 0:
            return Span(name, at, at + len(evidence))
        found = loose.search(text) if evidence.strip() else None
        if found:
            return Span(name, found.start(), found.end())
    return None


def hits(source: str, start: int, end: int, span: Span) -> bool:
    """True when [start, end) of `source` overlaps the span by MIN_OVERLAP chars (or all of it)."""
    if source != span.source:
        return False
    overlap = min(end, span.end) - max(start, span.start)
    return overlap >= min(MIN_OVERLAP, span.end - span.start)


def includes_all(text: str, must_include: list[list[str]]) -> bool:
    """Every group has at least one alternative in the text, as a whole word or phrase."""
    flat = " ".join(text.split())
    return all(any(_contains_phrase(flat, alt) for alt in group) for group in must_include)


def _contains_phrase(text: str, phrase: str) -> bool:
    # Case-insensitive, never inside a longer word: "AI" is not in "said", "#P" is in
    # "#P-complete"; a wrapped line in the answer still matches a one-line phrase.
    words = (re.escape(w) for w in phrase.split())
    pattern = r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def compute(results: list[ItemResult]) -> dict[str, float]:
    """All metrics over judged items; ratios with an empty denominator are 0 (or 1 for validity)."""
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    near_misses = [r for r in unanswerable if r.item.near_miss]
    cited = [(c, r) for r in answerable for c in r.answer.citations]
    spans = [(s, r) for r in answerable for s in r.spans]
    shown = [(m, r) for r in results for m in markers(r.answer.text)]
    first_hits = [_first_passage_hit(r) for r in answerable]
    latencies = sorted(r.latency_ms for r in results)
    quotes = [len(c.quote) for r in results for c in r.answer.citations]
    return {
        "answer_accuracy": _ratio(sum(_answered_right(r) for r in answerable), len(answerable)),
        "citation_precision": _ratio(
            sum(any(hits(c.source, c.start, c.end, s) for s in r.spans) for c, r in cited),
            len(cited),
        ),
        "citation_recall": _ratio(
            sum(
                any(hits(c.source, c.start, c.end, s) for c in r.answer.citations) for s, r in spans
            ),
            len(spans),
        ),
        "citation_validity": _ratio(
            sum(m in {c.n for c in r.answer.citations} for m, r in shown),
            len(shown),
            empty=1.0,
        ),
        "refusal_accuracy": _ratio(
            sum(r.answer.refused and not r.answer.citations for r in unanswerable),
            len(unanswerable),
        ),
        "near_miss_refusal": _ratio(
            sum(r.answer.refused and not r.answer.citations for r in near_misses),
            len(near_misses),
        ),
        "false_refusal_rate": _ratio(sum(r.answer.refused for r in answerable), len(answerable)),
        "retrieval_hit_at_k": _ratio(sum(rank is not None for rank in first_hits), len(first_hits)),
        "mrr": _ratio(sum(1 / rank for rank in first_hits if rank), len(first_hits)),
        "mean_cited_chars": round(statistics.fmean(quotes), 1) if quotes else 0.0,
        "latency_p50_ms": round(_percentile(latencies, 50), 1),
        "latency_p95_ms": round(_percentile(latencies, 95), 1),
        **_verification(answerable, results),
    }


def compute_by_mode(results: list[ItemResult]) -> dict:
    """The metrics over the answers each mode actually produced, and how many each produced.

    An llm-mode question answered by the extractive fallback counts as extractive: its
    text came from quotes, not from the LLM.
    """
    modes = sorted({r.answer.mode for r in results})
    return {
        "answers_by_mode": {m: sum(r.answer.mode == m for r in results) for m in modes},
        "by_mode": {m: compute([r for r in results if r.answer.mode == m]) for m in modes},
    }


def _verification(answerable: list[ItemResult], results: list[ItemResult]) -> dict:
    """For llm-mode runs: sentences removed, and citation precision of the unverified drafts."""
    if not any(r.answer.draft for r in results):
        return {}
    draft_hits = draft_total = 0
    for r in answerable:
        for _, cited in split_claims(r.answer.draft):
            for n in cited:
                draft_total += 1
                if 1 <= n <= len(r.answer.passages):
                    p = r.answer.passages[n - 1]
                    draft_hits += any(hits(p.source, p.start, p.end, s) for s in r.spans)
    return {
        "sentences_removed_by_verification": sum(len(r.answer.removed) for r in results),
        "citation_precision_before_verification": _ratio(draft_hits, draft_total),
        "llm_answers_kept": _ratio(sum(r.answer.mode == "llm" for r in results), len(results)),
    }


def judge(result: ItemResult) -> list[str]:
    """Why an item failed, in words (empty when it passed)."""
    item, answer = result.item, result.answer
    if not item.answerable:
        return (
            [] if answer.refused and not answer.citations else ["answered an unanswerable question"]
        )
    if answer.refused:
        return ["refused an answerable question"]
    reasons = []
    if not includes_all(answer.text, item.must_include):
        missing = [g for g in item.must_include if not includes_all(answer.text, [g])]
        reasons.append(f"answer lacks {missing}")
    for c in answer.citations:
        if not any(hits(c.source, c.start, c.end, s) for s in result.spans):
            reasons.append(f"citation [{c.n}] misses the gold evidence")
    missed = [
        s
        for s in result.spans
        if not any(hits(c.source, c.start, c.end, s) for c in answer.citations)
    ]
    if missed:
        reasons.append(f"{len(missed)} of {len(result.spans)} evidence spans not cited")
    return reasons


def _answered_right(result: ItemResult) -> bool:
    return not result.answer.refused and includes_all(result.answer.text, result.item.must_include)


def _first_passage_hit(result: ItemResult) -> int | None:
    for rank, p in enumerate(result.answer.passages, start=1):
        if any(hits(p.source, p.start, p.end, s) for s in result.spans):
            return rank
    return None


def _ratio(numerator: float, denominator: int, empty: float = 0.0) -> float:
    return round(numerator / denominator, 4) if denominator else empty


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]
