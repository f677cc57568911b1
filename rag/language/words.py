"""Text primitives shared by ingest and answering: normalization, words, stems, stopwords."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    according article mention mentioned mentions s t did does do whose
    ever many much one get got
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def normalize(text: str) -> str:
    """Tidy text extracted from HTML or PDF: NFC, LF newlines, no blank runs, no stray blanks.

    Plain-text files are stored exactly as on disk instead, so citations index the file.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def words(text: str) -> list[str]:
    """Lower-cased word tokens, apostrophes kept inside words."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


# PyStemmer's stemmers are not thread-safe: each thread gets its own.
_per_thread = threading.local()


def _stemmer():
    if not hasattr(_per_thread, "stemmer"):
        import Stemmer  # noqa: PLC0415 - PyStemmer

        _per_thread.stemmer = Stemmer.Stemmer("english")
    return _per_thread.stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a lower-case word, possessive removed."""
    return _stemmer().stemWord(word.removesuffix("'s"))


def content_terms(text: str) -> list[str]:
    """Stemmed words of `text` that carry meaning (no stopwords), in order, repeats kept."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def content_words(text: str) -> list[tuple[str, str]]:
    """(word, stem) for each meaningful word of `text`, in order."""
    return [(w, stem(w)) for w in words(text) if w not in STOPWORDS]
