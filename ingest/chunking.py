"""Split a normalized document into passages that keep exact character offsets."""

from __future__ import annotations

import hashlib

from rag.language.sentences import sentence_spans
from rag.types import Passage


def passage_id(document_id: str, name: str, start: int, end: int, text: str) -> str:
    """Content-derived id: the same file chunked the same way always yields the same ids
    (the name too: ingested from another folder, its passages carry the new name)."""
    key = f"{document_id}\x1f{name}\x1f{start}\x1f{end}\x1f{text}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def split_passages(
    source: str,
    text: str,
    max_chars: int,
    overlap: int,
    document_id: str = "",
    sentences: list[tuple[int, int]] | None = None,
) -> list[Passage]:
    """Pack whole sentences into passages of about `max_chars`; `text[p.start:p.end] == p.text`.

    `source` names the document; `document_id` (default: the name) identifies it; `sentences`
    are its sentence spans, when the caller has found them already."""
    document_id = document_id or source
    spans = _bounded_spans(
        text, sentence_spans(text) if sentences is None else sentences, max_chars
    )
    passages, first = [], 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= max_chars:
            last += 1
        start, end = spans[first][0], spans[last][1]
        passages.append(
            Passage(
                passage_id(document_id, source, start, end, text[start:end]),
                source,
                text[start:end],
                start,
                end,
                document_id=document_id,
            )
        )
        # Repeat the last sentence(s) so an answer spanning a boundary is still in one passage.
        first = max(last + 1 - overlap, first + 1) if last + 1 < len(spans) else last + 1
    return passages


def _bounded_spans(text: str, spans: list[tuple[int, int]], max_chars: int):
    """Cut sentences longer than `max_chars` at spaces; normal sentences pass unchanged."""
    bounded = []
    for start, end in spans:
        while end - start > max_chars:
            cut = text.rfind(" ", start + 1, start + max_chars + 1)
            cut = cut if cut > start else start + max_chars
            bounded.append((start, len(text[start:cut].rstrip()) + start))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        bounded.append((start, end))
    return bounded
