"""Text primitives shared by ingest and answering: normalization, sentences, terms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Words that end with a period without ending a sentence.
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "jr",
    "sr",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "inc",
    "ltd",
    "co",
    "corp",
    "gen",
    "gov",
    "sen",
    "rep",
    "fig",
    "al",
}
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|[.!?]+[\"'”’)\]]*$")
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
    said say says tell told according article mention mentioned mentions s t did does do whose
    ever many much one get got
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def normalize(text: str) -> str:
    """Normalize a document once, before it is stored: NFC, LF newlines, no trailing blanks."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, shifted by `offset`; lines never share one."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        spans.extend(_line_sentences(line, offset + line_start))
        line_start += len(line) + 1
    return spans


def _line_sentences(line: str, offset: int) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        if _is_abbreviation(line, match.start()) or not _next_starts_sentence(line, end):
            continue
        _append_trimmed(spans, line, start, end, offset)
        start = end
    _append_trimmed(spans, line, start, len(line), offset)
    return spans


def _is_abbreviation(line: str, dot: int) -> bool:
    if line[dot] != ".":
        return False
    word = re.search(r"([\w.]+)$", line[:dot])
    return bool(word) and (
        word.group(1).lower() in _ABBREVIATIONS
        or (len(word.group(1)) == 1 and word.group(1).isalpha())
    )


def _next_starts_sentence(line: str, end: int) -> bool:
    rest = line[end:].lstrip()
    return not rest or not rest[0].islower()


def _append_trimmed(spans: list, line: str, start: int, end: int, offset: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + start + lead, offset + start + lead + len(stripped)))


def words(text: str) -> list[str]:
    """Lower-cased word tokens, apostrophes kept inside words."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # noqa: PLC0415 - PyStemmer, installed with the BM25 retriever

    return Stemmer.Stemmer("english")


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
