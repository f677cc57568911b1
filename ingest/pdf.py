"""A PDF's text as people read it, from the lines pypdf extracts page by page.

pypdf's plain mode keeps words and spaces best of the extractors compared here
(bench/pdf_extractors.py: pypdf plain and layout modes, pdfminer.six, pdfplumber on two real
manuals), but it gives each page as printed lines. Read as they come, a page break drops
"<page number> <running title>" into the middle of a sentence, words hyphenated at a line end
stay broken ("manip- ulation"), headings run into the paragraph after them and a table of
contents reads as one long sentence. So:

- lines that repeat at the top or bottom of pages (running headers and footers, with their
  page numbers) and lines that are only a page number are dropped;
- table-of-contents lines (dot leaders ending in a page number) are dropped;
- a word hyphenated at a line end is joined;
- a short line ends its paragraph (headings, title-page lines, the last line of a paragraph),
  a list item starts one, and each paragraph is stored as one line;
- a paragraph that runs over a page break continues on the next page's first line.
"""

from __future__ import annotations

import re
from collections import Counter

_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:/|of)\s*\d+)?\s*$", re.I
)
_TOC_LINE = re.compile(r"(?:\.\s?){4,}\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*$", re.I)
_HYPHENATED = re.compile(r"(\S*[A-Za-z])-$")
_LIST_ITEM = re.compile(r"^\s*(?:[•◦‣▪*–-]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")
_ENDS_SENTENCE = re.compile(r"[.!?:;)\]\"”’]\s*$")
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be running text
SHORT_LINE = 0.7  # a line shorter than this share of the document's full line ends a paragraph


def page_text(pages: list[str]) -> str:
    """The document's text from its pages' extracted text (see the module docstring)."""
    pages_lines = [[line.rstrip() for line in page.splitlines()] for page in pages]
    running = _running_lines(pages_lines)
    kept = [
        [
            line
            for i, line in enumerate(lines)
            if line.strip()
            and not _TOC_LINE.search(line)
            and not (_at_edge(lines, i) and (_key(line) in running or _PAGE_NUMBER.match(line)))
        ]
        for lines in pages_lines
    ]
    full = _full_width([line for lines in kept for line in lines])
    paragraphs: list[list[str]] = [[]]
    for lines in kept:
        if paragraphs[-1] and not _continues(paragraphs[-1][-1], lines[0] if lines else "", full):
            paragraphs.append([])  # the page before ended its paragraph
        for line in lines:
            current = paragraphs[-1]
            broken = _HYPHENATED.search(current[-1]) if current else None
            if broken and _same_case(broken.group(1)[-1], line.lstrip()[:1]):
                # "manip-" + "ulation": one word again.
                current[-1] = current[-1][: broken.start()] + broken.group(1) + line.lstrip()
            elif current and _LIST_ITEM.match(line):
                paragraphs.append([line.strip()])
            else:
                current.append(line.strip())
            if len(line.strip()) < SHORT_LINE * full:
                paragraphs.append([])
    # One paragraph a line: where a printed line ended no longer matters.
    return "\n\n".join(" ".join(p) for p in paragraphs if p) + "\n"


def _running_lines(pages_lines: list[list[str]]) -> set[str]:
    """Lines (digits ignored) at the edge of at least three pages, or of two pages whose
    numbers differ there: running headers and footers."""
    seen: Counter = Counter()
    numbers: dict[str, set[str]] = {}
    for lines in pages_lines:
        edge = [line for i, line in enumerate(lines) if line.strip() and _at_edge(lines, i)]
        for line in set(edge):
            seen[_key(line)] += 1
            numbers.setdefault(_key(line), set()).add(" ".join(re.findall(r"\d+", line)))
    return {
        key
        for key, count in seen.items()
        if key.strip("# ") and (count >= 3 or (count == 2 and len(numbers[key]) == 2))
    }


def _at_edge(lines: list[str], i: int) -> bool:
    filled = [j for j, line in enumerate(lines) if line.strip()]
    return i in filled[:EDGE_LINES] or i in filled[-EDGE_LINES:]


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _full_width(lines: list[str]) -> float:
    """The length of a full line of the document's running text."""
    lengths = sorted(len(line.strip()) for line in lines)
    return float(lengths[int(0.9 * (len(lengths) - 1))]) if lengths else 0.0


def _same_case(before: str, after: str) -> bool:
    """A word broken at a line end goes on in its case ("manip-ulation", "SE-QUENCE")."""
    return after.isalpha() and (before.islower() == after.islower())


def _continues(previous: str, first: str, full: float) -> bool:
    """True when a page's first line goes on with the paragraph the page before ended with."""
    if not first or _LIST_ITEM.match(first):
        return False
    return not _ENDS_SENTENCE.search(previous) or first[:1].islower()
