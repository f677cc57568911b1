"""What a question asks for, and how well each candidate sentence gives it, as numbers.

Every feature means the same on any English prose: meaning (embedding cosine), the
question's words found in the sentence or just before it (IDF-weighted, near-synonyms by word
embeddings), the names asked about, whether the sentence holds the kind of answer asked for
(a number, a time, a name), and where the retriever ranked its passage. How they combine is
learned from public data (bench/fit_scorer.py), not set by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.language.words import STOPWORDS, content_words, stem, words

FEATURES = (
    "dense",
    "dense_gap",
    "overlap",
    "overlap_gap",
    "soft_overlap",
    "soft_gap",
    "phrases",
    "context_overlap",
    "names",
    "others_named",
    "answer_type",
    "defines",
    "reason",
    "passage_rank",
    "length",
)
# Least word-embedding cosine for a word to count as a near-synonym of a question word.
SYNONYM_COSINE = 0.6

_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million|billion|trillion|dozens?|half|once|twice|"
    r"several|few|many)\b",
    re.I,
)
_TIME = re.compile(
    r"\d|\b(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|"
    r"fall|winter|century|decade|year|month|week|day|today|yesterday|ago|before|after|during|"
    r"since|until|when|then|later|earlier|early|late)\b",
    re.I,
)
_STRICT_TIME = re.compile(
    r"\d|\b(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|"
    r"winter|century|decade|today|yesterday|tomorrow|ago|recently|currently|now)\b",
    re.I,
)
# Years (four digits) and "Month day" dates, which quantity questions do not ask for.
_DATE = re.compile(
    r"\b[12]\d{3}s?\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b",
    re.I,
)
_CAUSE = re.compile(
    r"\b(because|due to|owing to|since|as a result|result(ed|s)? (in|from)|so that|in order to|"
    r"thanks to|led to|leads? to|caus\w+|reasons?|why|therefore|thus|hence|motivat\w+|aim\w* to)\b",
    re.I,
)
_QUANTITY_Q = re.compile(
    r"\bhow (much|many|long|far|old|big|large|tall|often)\b|\b(what|which) "
    r"(percentage|percent|number|amount|age|size|fraction)\b",
    re.I,
)
_TIME_Q = re.compile(
    r"^\W*when\b|\b(what|which) (year|month|day|date|time|century|decade|era|"
    r"period)\b|\bhow long ago\b",
    re.I,
)
_PERSON_Q = re.compile(r"^\W*(who|whom|whose)\b", re.I)
# ", and what ...", "and why": a second question joined to the first.
_SECOND_PART = re.compile(
    r"\b(?:and|or)\s+(?:what|which|why|how|when|where|who|whom|whose|does|do|did|is|are|was|"
    r"were|can|could|should|would)\b|\?(?=\s+\S)",
    re.I,
)
_DEFINITION_Q = re.compile(r"^\W*(who|what)\s+(is|was|are|were)\b", re.I)
# "Odile Varga, the lighthouse keeper, ...", "Ilse Marren, a director of ...",
# "X is a ...": the sentence says what the name is.
_APPOSITIVE = re.compile(
    r"^\s*(?:,\s*(?:\w+\s+){0,2}?|\s+(?:is|was|are|were)\s+)(?:an?|the)\s+\w", re.I
)
_WHY_Q = re.compile(r"^\W*why\b|\bwhat (was|is|were|are) the (reason|cause|motivation)", re.I)
# Words that say what kind of answer is wanted, not what it is about.
_TYPE_WORDS = {
    stem(w)
    for w in ("year", "month", "day", "date", "time", "old", "age", "long", "kind", "type", "way")
    + ("many", "much")
}


@dataclass(frozen=True)
class Question:
    """A question analysed once: its weighted words, the names it asks about, its answer type."""

    text: str
    vector: np.ndarray
    focus: dict[str, float]  # stem -> IDF weight of each meaningful word
    focus_words: dict[str, str]  # stem -> the word as written (for near-synonym lookup)
    bigrams: frozenset[tuple[str, str]]  # consecutive meaningful stems: phrases asked about
    names: tuple[frozenset[str], ...]  # the stems of each name asked about
    answer_type: str  # "quantity", "time", "person", "reason" or "other"
    wants_definition: bool = False  # "Who is X?", "What is X?": a sentence saying what X is
    parts: int = 1  # "Is it X, and why?" asks two things


def analyse(question: str, vector: np.ndarray, idf: Callable[[str], float]) -> Question:
    """The features of a question that every candidate sentence is compared with."""
    names = tuple(frozenset(stem(w.lower()) for w in group) for group in name_phrases(question))
    named = set().union(*names) if names else set()
    pairs = [(w, t) for w, t in content_words(question) if t not in _TYPE_WORDS]
    focus = {t: idf(t) for _, t in pairs if t not in named} or {t: idf(t) for _, t in pairs}
    stems = [t for _, t in content_words(question)]
    return Question(
        question,
        vector,
        focus,
        {t: w for w, t in pairs},
        frozenset(zip(stems, stems[1:], strict=False)),
        names,
        _answer_type(question),
        bool(names) and bool(_DEFINITION_Q.match(question)),
        1 + len(_SECOND_PART.findall(question)),
    )


def name_phrases(text: str) -> list[list[str]]:
    """Runs of capitalized words that are not the first word of a sentence: the names in it."""
    groups: list[list[str]] = []
    tokens = re.findall(r"[^\W_]+(?:['’][^\W_]+)*|[.?!;:]", text)
    current: list[str] = []
    sentence_start = True
    for token in tokens:
        capital = token[0].isupper() and token.lower() not in STOPWORDS
        if capital and not sentence_start:
            current.append(token.removesuffix("’s").removesuffix("'s"))
        elif current:
            groups.append(current)
            current = []
        sentence_start = token in ".?!;:"
    if current:
        groups.append(current)
    return groups


def _answer_type(question: str) -> str:
    if _QUANTITY_Q.search(question):
        return "quantity"
    if _TIME_Q.search(question):
        return "time"
    if _PERSON_Q.search(question):
        return "person"
    return "reason" if _WHY_Q.search(question) else "other"


def sentence_features(
    q: Question,
    sentences: list[str],
    contexts: list[str],
    vectors: np.ndarray,
    passage_ranks: list[int],
    word_vectors: Callable[[list[str]], np.ndarray],
) -> np.ndarray:
    """One row of FEATURES per candidate sentence (`contexts`: the text just before each)."""
    dense = vectors @ q.vector
    synonyms = _Synonyms(word_vectors, q, sentences)
    rows = []
    for text, context, cosine, rank in zip(sentences, contexts, dense, passage_ranks, strict=True):
        own_stems = [t for _, t in content_words(text)]
        own = set(own_stems)
        phrases = set(zip(own_stems, own_stems[1:], strict=False)) & q.bigrams
        near = {t for _, t in content_words(context)}
        overlap = _share(q.focus, lambda t, own=own: t in own)
        soft = _share(q.focus, lambda t, own=own, text=text: t in own or synonyms.found(t, text))
        rows.append(
            [
                float(cosine),
                0.0,
                overlap,
                0.0,
                soft,
                0.0,
                len(phrases) / len(q.bigrams) if q.bigrams else 0.0,
                _share(q.focus, lambda t, own=own, near=near: t in near and t not in own),
                _names_found(q.names, own | near),
                _others_named(q.names, text),
                float(_has_answer_type(q, text)),
                float(q.wants_definition and _defines(q.names, text)),
                float(q.answer_type == "reason" and bool(_CAUSE.search(text))),
                1.0 / rank,
                math.log(1 + len(text)) / 6,
            ]
        )
    table = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURES))
    if len(rows):
        for value, gap in (
            ("dense", "dense_gap"),
            ("overlap", "overlap_gap"),
            ("soft_overlap", "soft_gap"),
        ):
            column = table[:, FEATURES.index(value)]
            table[:, FEATURES.index(gap)] = column - column.max()
    return table


def _share(weights: dict[str, float], found: Callable[[str], bool]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if found(t)) / total if total else 0.0


def _names_found(names: tuple[frozenset[str], ...], terms: set[str]) -> float:
    """Share of the names asked about that are in the sentence or just before it (1 if none)."""
    if not names:
        return 1.0
    return sum(bool(group & terms) for group in names) / len(names)


def _others_named(names: tuple[frozenset[str], ...], sentence: str) -> float:
    """How crowded the sentence is with names not asked about (0 none, 1 five or more).

    A sentence listing five people is about none of them in particular.
    """
    asked = set().union(*names) if names else set()
    others = sum(not {stem(w.lower()) for w in group} & asked for group in name_phrases(sentence))
    return min(others, 5) / 5


def _defines(names: tuple[frozenset[str], ...], sentence: str) -> bool:
    """True when a name asked about is followed by what it is ("X, a research fellow")."""
    tokens = list(re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", sentence))
    for i, token in enumerate(tokens):
        if any(stem(token.group().lower()) in group for group in names):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and any(stem(nxt.group().lower()) in g for g in names):
                continue  # still inside the name
            if _APPOSITIVE.match(sentence[token.end() :]):
                return True
    return False


def fits_answer_type(q: Question, sentence: str) -> bool:
    """False when the question asks for a quantity or a time the sentence does not hold.

    Any prose answers "how many" with a number and "when" with a time expression; a
    sentence without one is about the right thing but does not say what is asked.
    """
    if q.answer_type == "quantity":
        return bool(_NUMBER.search(_DATE.sub(" ", sentence)))  # a date is not a quantity
    if q.answer_type == "time":
        return bool(_STRICT_TIME.search(sentence))
    return True


def _has_answer_type(q: Question, sentence: str) -> bool:
    if q.answer_type == "quantity":
        return bool(_NUMBER.search(sentence))
    if q.answer_type == "time":
        return bool(_TIME.search(sentence))
    if q.answer_type == "person":
        asked = set().union(*q.names) if q.names else set()
        return any(
            not {stem(w.lower()) for w in group} <= asked for group in name_phrases(sentence)
        )
    return True


class _Synonyms:
    """Whether a question word has a near-synonym (by word embedding) in a sentence."""

    def __init__(self, word_vectors: Callable[[list[str]], np.ndarray], q: Question, sentences):
        question = {t: w for t, w in q.focus_words.items() if t in q.focus}
        vocabulary = sorted({w for text in sentences for w in words(text) if w not in STOPWORDS})
        # One batch for every word of every candidate: a call per sentence costs 10x more.
        vectors = word_vectors(list(question.values()) + vocabulary) if question else None
        self._question = dict(zip(question, vectors, strict=False)) if question else {}
        self._rows = {w: i for i, w in enumerate(vocabulary)}
        self._vocabulary = vectors[len(question) :] if question else None

    def found(self, term: str, sentence: str) -> bool:
        """True when some word of the sentence is within SYNONYM_COSINE of the question word."""
        rows = [self._rows[w] for w in set(words(sentence)) if w in self._rows]
        if not rows or term not in self._question:
            return False
        best = float(np.max(self._vocabulary[rows] @ self._question[term]))
        return best >= SYNONYM_COSINE
