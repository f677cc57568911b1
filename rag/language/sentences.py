"""Paragraphs and sentences of a document as it is on disk, with exact character offsets.

Text comes hard-wrapped (manuals, specifications, RFCs), one paragraph a line (news, web
pages), indented, with lists and headings, and with CRLF line ends. A paragraph ends at a
blank line, before a list item or heading, or where indentation jumps (a code block); the
lines inside it are joined, and pysbd finds the sentences of the joined text. Offsets always
index the original text, so `text[start:end]` is what a citation quotes.
"""

from __future__ import annotations

import re
import threading

# A line longer than this was not wrapped by hand: each such line is a paragraph of its own.
WRAP_WIDTH = 100
_BLANK = re.compile(r"[ \t\r\f\v]*\n(?:[ \t\r\f\v]*\n)+")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•‣◦]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])[ \t]+\S")
_UNDERLINE = re.compile(r"[ \t]*[=\-~^*]{3,}[ \t]*$")
_HEADING = re.compile(r"[ \t]*(?:#{1,6}[ \t]|[=\-~^*]{3,}[ \t]*$)")
# pysbd splits after these though the sentence goes on ("built ca. 1500 by monks").
_ABBREVIATION_END = re.compile(
    r"\b(?:ca|c|approx|cf|vs|no|nos|vol|pp|p|fig|ed|eds|sec|ch)\.\s*$", re.I
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, whitespace trimmed, in document order."""
    spans = []
    for block_start, block_end in _blocks(text):
        spans.extend(_split_block(text, block_start, block_end))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, shifted by `offset`; never across paragraphs."""
    spans = []
    for start, end in paragraph_spans(text):
        spans += [(offset + s, offset + e) for s, e in paragraph_sentences(text, start, end)]
    return spans


# Fewer words than this is a heading or a label ("sudo", "DESCRIPTION"), not a statement.
MIN_STATEMENT_WORDS = 4


def states_something(sentence: str) -> bool:
    """A sentence that could answer: a statement, not a question or a heading."""
    return not sentence.rstrip().endswith("?") and len(sentence.split()) >= MIN_STATEMENT_WORDS


def sentence_table(text: str) -> tuple[tuple[int, int, int, int], ...]:
    """(paragraph start, paragraph end, start, end) of every sentence of a document, in
    order: what ingest stores with a document so that questions never segment again."""
    return tuple(
        (para_start, para_end, start, end)
        for para_start, para_end in paragraph_spans(text)
        for start, end in paragraph_sentences(text, para_start, para_end)
    )


def paragraph_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences of the paragraph text[start:end] (a span from `paragraph_spans(text)`)."""
    return [
        (s, e)
        for s, e in _paragraph_sentences(text, start, end)
        if any(ch.isalnum() for ch in text[s:e])  # not a rule line like "-----"
    ]


def _blocks(text: str) -> list[tuple[int, int]]:
    blocks, start = [], 0
    for gap in _BLANK.finditer(text):
        blocks.append((start, gap.start()))
        start = gap.end()
    blocks.append((start, len(text)))
    return blocks


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A block between blank lines, cut where a new paragraph begins inside it."""
    lines, at = [], start
    for line in text[start:end].split("\n"):
        lines.append((at, at + len(line)))
        at += len(line) + 1
    unwrapped = any(len(text[s:e].rstrip()) > WRAP_WIDTH for s, e in lines)
    spans, current = [], lines[0][0]
    # A byte order mark opens only the file, but would hide a heading on its first line.
    texts = [text[s:e].lstrip("\ufeff") for s, e in lines] + [""]
    for i in range(1, len(lines)):
        prev_end, (line_start, _) = lines[i - 1][1], lines[i]
        line, previous, following = texts[i], texts[i - 1], texts[i + 1]
        if unwrapped or _starts_paragraph(line, previous) or _UNDERLINE.match(following):
            spans.append((current, prev_end))
            current = line_start
    spans.append((current, lines[-1][1]))
    return spans


def _starts_paragraph(line: str, previous: str) -> bool:
    if _LIST_ITEM.match(line) or _HEADING.match(line) or _HEADING.match(previous):
        return True
    if _capitals_heading(line) or _capitals_heading(previous):
        return True
    indent, previous_indent = _indent(line), _indent(previous)
    return abs(indent - previous_indent) >= 4 and not _LIST_ITEM.match(previous)


def _capitals_heading(line: str) -> bool:
    """An all-capitals line ("DESCRIPTION", "SEE ALSO") heads a section of a manual."""
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _paragraph_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    # Newlines inside a paragraph become spaces of the same length, so offsets carry over.
    joined = re.sub(r"[\r\n\t\f\v]", " ", text[start:end])
    spans: list[tuple[int, int]] = []
    for found, piece_end in _windowed_sentences(joined, _language(joined)):
        if spans and _ABBREVIATION_END.search(joined[spans[-1][0] : spans[-1][1]]):
            spans[-1] = (spans[-1][0], piece_end)
        else:
            spans.append((found, piece_end))
    return [_trim(text, start + s, start + e) for s, e in spans]


# pysbd's time grows with the square of the text it is given: a paragraph is segmented a
# window at a time, each window starting at the last (possibly cut) sentence of the one
# before, so that any paragraph costs time in proportion to its length.
SEGMENT_WINDOW = 4000


def _windowed_sentences(joined: str, language: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    while at < len(joined):
        window = joined[at : at + SEGMENT_WINDOW]
        found = _sentences_of(window, language)
        if at + len(window) >= len(joined) or len(found) < 2:
            # The last window, or one sentence longer than a window: taken as found (the
            # chunker cuts overlong sentences anyway).
            spans += [(at + s, at + e) for s, e in found]
            at += len(window)
        else:
            spans += [(at + s, at + e) for s, e in found[:-1]]
            at += found[-1][0]
    return spans


def _sentences_of(joined: str, language: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for piece in _segmenter(language).segment(joined):
        found = joined.find(piece.strip(), at) if piece.strip() else -1
        if found < 0:
            continue
        spans.append((found, found + len(piece.strip())))
        at = found + len(piece.strip())
    return spans


def _language(text: str) -> str:
    if len(_CJK.findall(text)) > len(text) // 4:
        return "zh"
    return "hi" if _DEVANAGARI.search(text) else "en"


# A pysbd Segmenter keeps the text it is splitting on the instance: two threads sharing one
# corrupt each other's sentences. Each thread gets its own.
_per_thread = threading.local()


def _segmenter(language: str):
    import pysbd  # noqa: PLC0415 - loads its rules on first use

    segmenters = _per_thread.__dict__.setdefault("segmenters", {})
    if language not in segmenters:
        segmenters[language] = pysbd.Segmenter(language=language, clean=False)
    return segmenters[language]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    # A byte order mark stays in the text (offsets index the file as on disk) but is no
    # more part of a sentence than the blank before it.
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == "\ufeff"):
        end -= 1
    return start, end
