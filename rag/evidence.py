"""Sentence-level evidence: score the sentences of retrieved passages against the question."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rag.text import STOPWORDS, content_terms, content_words, sentence_spans
from rag.types import Passage


@dataclass(frozen=True)
class Weights:
    """How sentence features combine into a support score (calibrated by bench/calibrate.py)."""

    dense: float = 0.3  # meaning: embedding cosine of sentence and question
    focus: float = 0.3  # the asked-about words found in the sentence
    names: float = 0.55  # the people and places asked about, named in or just before it
    context_credit: float = 0.5  # a focus word found only in the sentence before counts this
    off_topic: float = 0.4  # share of the score kept when none of the names is there
    reason_bonus: float = 0.05  # added for a why-question when the sentence gives a reason
    soft_match: float = 0.6  # least word-embedding cosine for a synonym to count as found
    crowd: float = 0.03  # penalty per other name: a list of five people is about none of them
    definition_bonus: float = 0.2  # added for "who is X?" when the sentence says what X is


_REASON = re.compile(
    r"\b(because|driven by|due to|motivation|wanted to|in order to|reasons?|"
    r"so that|led to|thanks to|since|in light of|prompt\w*|amid)\b",
    re.I,
)
_AGE_QUESTION = re.compile(r"\bhow old\b|\b(what|which) age\b|\bat what age\b", re.I)
_AGE = re.compile(r"\bage(d)? (of )?\d+|\b\d+[- ]years?[- ]old\b|\bin (his|her|their) \d+s\b", re.I)
_QUANTITY_QUESTION = re.compile(
    r"\bhow (much|many|long)\b|\bwhat (percentage|number|amount|sum)\b", re.I
)
_YEAR_QUESTION = re.compile(r"\b(what|which) year\b", re.I)
_YEAR = re.compile(r"\b(1[89]|20)\d\d\b|\b(this|last|next) year\b", re.I)
_DATE_QUESTION = re.compile(r"^\W*when\b|\b(what|which) (month|day|date)\b", re.I)
_MONTH = (
    r"January|February|March|April|May|June|July|August|September|October|November|"
    r"December|(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.? \d{1,2}\b"
)
_DATE = re.compile(
    rf"\b(1[89]|20)\d\d\b|\b({_MONTH})|\b(Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday)\b|\b(this|last) (year|month|week)\b|\bago\b"
)
_YEAR_OR_DAY = re.compile(rf"\b(1[89]|20)\d\d\b|\b({_MONTH})", re.I)
_QUANTITY = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozens?|"
    r"half)\b",
    re.I,
)
_NAME_PHRASE = re.compile(r"(?<!^)(?<![.?!] )\b([A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*)")
_DEFINITION_QUESTION = re.compile(
    r"^\W*(who|what) (is|was|are|were)\b(?!.*\b(say|said|do|did|think)\b)|"
    r"\b(job|role|position|occupation|profession|title)\b",
    re.I,
)
_APPOSITION = re.compile(r"((?:[A-Z][\w’'-]+ ?){1,4}),? (?:(?:is|was) )?(?:an?|the) [a-z]")
_CONTINUES = re.compile(r"(he|she|they|it|its|his|her|their|this|these)\b", re.I)
# Words that say what kind of answer is wanted, not what it is about.
_TYPE_WORDS = {"year", "month", "day", "date", "old", "age", "long", "kind", "type", "way"}
# How much text before a sentence counts as its context (its subject is often named there).
CONTEXT_CHARS = 300


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage, located in its source, with its support score."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float
    dense: float
    focus: float
    names: float | None  # None when the question names nobody
    gives_reason: bool
    others_named: int = 0  # names in the sentence that the question does not ask about
    defines: bool = False  # says who or what the asked-about name is ("Lee, a research fellow")
    continues: bool = False  # goes on from the sentence before, in the same paragraph ("Its...")


def score_sentences(
    question: str,
    question_vector: np.ndarray,
    passages: list[Passage],
    embed: Callable[[list[str]], np.ndarray],
    idf: Callable[[str], float],
    source_text: Callable[[str], str | None],
    weights: Weights = Weights(),
) -> list[Evidence]:
    """Every distinct sentence of the passages, scored against the question, best first."""
    candidates = _candidate_sentences(passages, source_text)
    if not candidates:
        return []
    dense = embed([text for _, _, _, text, _ in candidates]) @ question_vector
    groups = name_groups(question)
    named = {t for group in groups for t in group}
    focus = {(w, t): idf(t) for w, t in content_words(question) if t not in named | _TYPE_WORDS}
    synonyms = _Synonyms(embed, [w for w, _ in focus], weights.soft_match)
    wants_reason = bool(re.match(r"\W*why\b", question, re.I))
    wants_definition = bool(_DEFINITION_QUESTION.search(question))
    scored = []
    for (passage, start, end, text, context), cosine in zip(candidates, dense, strict=True):
        own, near = content_words(text), content_words(context)
        own_terms, near_terms = {t for _, t in own}, {t for _, t in near}
        evidence = Evidence(
            passage,
            start,
            end,
            text,
            0.0,
            round(float(cosine), 4),
            focus=round(focus_coverage(focus, own, near, synonyms, weights.context_credit), 4)
            if focus
            else None,
            names=round(name_coverage(groups, own_terms | near_terms, idf), 4) if groups else None,
            gives_reason=wants_reason and bool(_REASON.search(text)),
            others_named=_others_named(groups, text),
            defines=wants_definition and _defines(groups, text),
            continues=bool(_CONTINUES.match(text)) and "\n" not in context[-3:],
        )
        scored.append(replace(evidence, score=round(support(evidence, weights), 4)))
    return sorted(scored, key=lambda e: -e.score)


class _Synonyms:
    """Word-embedding similarity between the question's words and a sentence's words."""

    def __init__(self, embed, question_words: list[str], least: float):
        self.embed, self.least = embed, least
        self.question = (
            dict(zip(question_words, embed(question_words), strict=True)) if question_words else {}
        )

    def best(self, word: str, words: list[str]) -> float:
        """Highest cosine of `word` with any of `words`, or 0 below the least that counts."""
        if not words:
            return 0.0
        best = float(np.max(self.embed(words) @ self.question[word]))
        return best if best >= self.least else 0.0


def support(e: Evidence, weights: Weights) -> float:
    """One score from the features; a missing feature (no names, say) lends its weight."""
    focus = e.focus if e.focus is not None else e.names or 0.0
    names = e.names if e.names is not None else focus
    score = weights.dense * e.dense + weights.focus * focus + weights.names * names
    if e.names == 0.0:
        score *= weights.off_topic
    score /= 1 + weights.crowd * e.others_named
    score += weights.reason_bonus if e.gives_reason else 0.0
    return score + (weights.definition_bonus if e.defines else 0.0)


def name_groups(question: str) -> list[tuple[str, ...]]:
    """The names inside the question ("Chen Jing", "Tsinghua University") as stemmed words."""
    groups = []
    for phrase in _NAME_PHRASE.findall(question):
        # Acronyms (PhD, AI, MIT) say what is asked about more often than who.
        words = [
            w
            for w in phrase.split()
            if w.lower() not in STOPWORDS and sum(ch.isupper() for ch in w) < 2
        ]
        stems = tuple(t for w in words for t in content_terms(w))
        if stems:
            groups.append(stems)
    return groups


def _defines(groups: list[tuple[str, ...]], sentence: str) -> bool:
    """True when a name asked about is followed by an apposition: "Lizzi Lee, a research fellow"."""
    for match in _APPOSITION.finditer(sentence):
        terms = {t[:4] for t in content_terms(match.group(1))}
        if any(t[:4] in terms for group in groups for t in group):
            return True
    return False


def _others_named(groups: list[tuple[str, ...]], sentence: str) -> int:
    """How many names in the sentence are not among those asked about."""
    asked = {t[:4] for group in groups for t in group}
    others = 0
    for phrase in _NAME_PHRASE.findall(sentence):
        terms = [t for w in phrase.split() for t in content_terms(w)]
        others += bool(terms) and not any(t[:4] in asked for t in terms)
    return others


def name_coverage(groups: list[tuple[str, ...]], terms: set[str], idf) -> float:
    """IDF-weighted share of the names found; one word of a name ("Chen" of "Chen Jing") will do.

    Name words also match by their first four letters, so "China" finds "Chinese".
    """
    prefixes = {t[:4] for t in terms if len(t) >= 4}
    total = found = 0.0
    for group in groups:
        weight = max(idf(t) for t in group)
        total += weight
        hits = [idf(t) for t in group if t in terms or (len(t) >= 4 and t[:4] in prefixes)]
        found += max(hits, default=0.0)
    return found / total if total else 0.0


def focus_coverage(
    focus: dict[tuple[str, str], float], own, near, synonyms: _Synonyms, context_credit: float
) -> float:
    """IDF-weighted share of the question's words found in the sentence, as such or as synonyms.

    A word found only in the text just before the sentence earns `context_credit`.
    """
    total = sum(focus.values())
    own_terms, near_terms = {t for _, t in own}, {t for _, t in near}
    found = 0.0
    for (word, term), weight in focus.items():
        if term in own_terms:
            credit = 1.0
        elif term in near_terms:
            credit = context_credit
        else:
            credit = synonyms.best(word, [w for w, _ in own])
        found += weight * credit
    return found / total if total else 0.0


def fits_answer_type(question: str, sentence: str) -> bool:
    """False when the question asks for an age, quantity or date the sentence does not contain."""
    if _AGE_QUESTION.search(question):
        return bool(_AGE.search(sentence))
    if _QUANTITY_QUESTION.search(question):
        return bool(_QUANTITY.search(_YEAR_OR_DAY.sub(" ", sentence)))
    if _YEAR_QUESTION.search(question):
        return bool(_YEAR.search(sentence))
    if _DATE_QUESTION.search(question):
        return bool(_DATE.search(sentence))
    return True


def _candidate_sentences(passages: list[Passage], source_text):
    """(passage, start, end, text, text just before it) for each sentence, once per location.

    A passage is read on to the end of its paragraph, so that a sentence cut off by the
    passage boundary ("Its broad strengths...") can still be quoted with the one before it.
    """
    seen, candidates = set(), []
    for passage in passages:
        document = source_text(passage.source) or passage.text
        line_end = document.find("\n", passage.end)
        end_of_paragraph = len(document) if line_end < 0 else line_end
        span = document[passage.start : end_of_paragraph]
        for start, end in sentence_spans(span, passage.start):
            if (passage.source, start) in seen:
                continue
            seen.add((passage.source, start))
            text = document[start:end]
            context = document[max(0, start - CONTEXT_CHARS) : start]
            candidates.append((passage, start, end, text, context))
    return candidates
