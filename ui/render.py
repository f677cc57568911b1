"""HTML for the sources panel. Document and model text is always escaped: it is shown, never run."""

from __future__ import annotations

import re
from html import escape

from rag.language.sentences import paragraph_spans
from rag.types import Answer, Citation, Document, Passage

CSS = """
/* Gradio's .block sets overflow: visible; the panel scrolls inside its column instead. */
#sources { max-height: 78vh; overflow-y: auto !important; }
.source { border: 1px solid #ddd; border-radius: 8px; padding: 8px 10px; margin: 0 0 10px 0; }
.source.selected { border: 2px solid #e8a317; background: #fffaf0; }
.source .where { color: #666; font-size: 0.85em; margin-bottom: 4px; }
.source mark { background: #ffe58a; padding: 0 2px; }
.refusal { color: #555; font-style: italic; }
.gone { color: #8a5a00; font-size: 0.85em; margin-top: 4px; }
a.cite { font-weight: 600; text-decoration: none; padding: 0 1px; border-radius: 3px; }
a.cite:hover, a.cite:focus { background: #ffe58a; }
#cite-target, #doc-target { display: none !important; }
/* The library table: headers on one line, long names and paths wrap inside their cells;
   on a phone each document is a card of labelled lines. */
#library table { width: 100%; table-layout: fixed; border-collapse: collapse; }
#library th { white-space: nowrap; text-align: left; font-weight: 600; padding: 6px; }
#library td { overflow-wrap: anywhere; vertical-align: top; padding: 6px; }
#library tr { border-bottom: 1px solid #e5e5e5; }
#library td.number { text-align: right; }
@media (max-width: 640px) {
  #library thead, #library colgroup { display: none; }
  #library table, #library tbody, #library tr, #library td { display: block; width: auto; }
  #library td { border: none; padding: 2px 6px; }
  #library td.number { text-align: left; }
  #library td::before { content: attr(data-label) ": "; font-weight: 600; }
}
#viewer { max-height: 78vh; overflow-y: auto !important; }
#viewer .document-name { color: #666; font-size: 0.9em; margin-bottom: 6px; }
#viewer .document-text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.5; }
#viewer mark.cited { background: #fff1b8; }
#viewer mark.focus { background: #ffd24d; outline: 2px solid #e8a317; }
#viewer .elided { color: #888; font-style: italic; }
"""

# Markers become links; a click hands "answer:marker" to a hidden box (#cite-target for a
# marker, #doc-target for "the whole document"), whose input event asks the app for it. The
# viewer's focused span is scrolled into view whenever it appears. Runs once per page.
CITATION_CLICKS = """
() => {
  const targets = {cite: '#cite-target textarea', doc: '#doc-target textarea'};
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.cite, a.open-doc');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    // The chat's sanitizer keeps href but drops data attributes: "#cite-ANSWER-N".
    const [answer, n] = link.getAttribute('href').split('-').slice(-2);
    const box = document.querySelector(targets[link.classList.contains('cite') ? 'cite' : 'doc']);
    box.value = `${answer}:${n}:${Date.now()}`;
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);
  let shown = null;
  new MutationObserver(() => {
    const focus = document.querySelector('#viewer mark.focus');
    if (focus && focus !== shown) {
      shown = focus;
      focus.scrollIntoView({block: 'center'});
    }
  }).observe(document.body, {childList: true, subtree: true});
}
"""
_MARKER = re.compile(r"\[(\d+)\]")


def as_text(text: str) -> str:
    """Escape text for the chat, which renders HTML: markup in a document shows as written."""
    return escape(text, quote=False)


def linked_answer(answer: Answer, number: int) -> str:
    """The answer's text, escaped, with each of its `[n]` markers a link to that citation."""
    cited = {c.n for c in answer.citations}

    def link(marker: re.Match) -> str:
        n = int(marker.group(1))
        if n not in cited:
            return marker.group(0)
        return f'<a href="#cite-{number}-{n}" class="cite" title="show source {n}">[{n}]</a>'

    return _MARKER.sub(link, escape(answer.text, quote=False))


def conversation_markdown(answers: list[Answer], title: str) -> str:
    """The chat as Markdown: each question, its answer, and the sources it cites."""
    parts = [f"# {title}"]
    for answer in answers:
        parts += [f"**Question:** {answer.question}", f"**Answer:** {answer.text}"]
        parts += [f"- {c.line()}" for c in answer.citations]
    return "\n\n".join(parts) + "\n"


def sources_html(
    answer: Answer | None,
    paragraphs: dict[int, str],
    selected: int | None,
    number: int | None = None,
) -> str:
    """Cited sources first, numbered as in the answer (the `number`-th of its conversation:
    then each opens its whole document); consulted passages folded below."""
    if answer is None:
        return "<div id='sources-empty'>Sources of the answer appear here.</div>"
    parts = []
    if answer.refused:
        parts.append(
            "<p class='refusal'>The sources do not answer this question, so nothing is cited.</p>"
        )
    for c in answer.citations:
        parts.append(_citation_card(c, paragraphs.get(c.n, c.quote), c.n == selected, number))
    cited = {c.passage_id for c in answer.citations}
    others = [p for p in answer.passages if p.id not in cited]
    if others:
        # After a refusal the nearest passages may still help: offered open, never cited.
        label, folder = (
            ("related passages", "id='related' open")
            if answer.refused
            else ("more passages consulted", "id='consulted'")
        )
        parts.append(f"<details {folder}><summary>{len(others)} {label}, not cited</summary>")
        parts += [_passage_card(p) for p in others]
        parts.append("</details>")
    return "\n".join(parts)


def _citation_card(
    citation: Citation, paragraph_html: str, selected: bool, number: int | None
) -> str:
    classes = "source selected" if selected else "source"
    opener = (
        f" · <a class='open-doc' href='#doc-{number}-{citation.n}'>whole document</a>"
        if number is not None
        else ""
    )
    return (
        f"<div class='{classes}' id='source-{citation.n}' data-n='{citation.n}'>"
        f"<div class='where'>[{citation.n}] {escape(citation.source)}, characters "
        f"{citation.start:,}–{citation.end:,}{opener}</div>{paragraph_html}</div>"
    )


LIBRARY_COLUMNS = (
    ("name", "28%"),
    ("passages", "9%"),
    ("characters", "10%"),
    ("ingested at (UTC)", "17%"),
    ("added by", "12%"),
    ("path", "24%"),
)


def library_html(documents: list[Document]) -> str:
    """The library as a table (escaped), for editors."""
    columns = "".join(f"<col style='width: {width}'>" for _, width in LIBRARY_COLUMNS)
    header = "".join(f"<th>{name}</th>" for name, _ in LIBRARY_COLUMNS)
    rows = []
    for d in documents:
        cells = (
            (d.name, ""),
            (f"{d.passages:,}", "number"),
            (f"{d.chars:,}", "number"),
            (d.ingested_at, ""),
            (d.added_by or "-", ""),
            (d.path, ""),
        )
        rows.append(
            "<tr>"
            + "".join(
                f"<td class='{kind}' data-label='{label}'>{escape(value)}</td>"
                for (value, kind), (label, _) in zip(cells, LIBRARY_COLUMNS, strict=True)
            )
            + "</tr>"
        )
    return (
        f"<table><colgroup>{columns}</colgroup><thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# Longer documents are shown as this many characters around the focused span.
MAX_VIEW_CHARS = 200_000


def document_html(
    name: str, text: str, focus: tuple[int, int] | None, cited: list[tuple[int, int]]
) -> str:
    """A whole document, escaped, its lines kept: the `focus` span marked to be scrolled to,
    the other `cited` spans marked too."""
    start, end = 0, len(text)
    if len(text) > MAX_VIEW_CHARS:
        middle = focus[0] if focus else 0
        start = max(0, min(middle - MAX_VIEW_CHARS // 2, len(text) - MAX_VIEW_CHARS))
        end = start + MAX_VIEW_CHARS
    spans = [(s, e, "cited") for s, e in cited if s < e] + (
        [(focus[0], focus[1], "focus")] if focus else []
    )
    cuts = sorted({start, end, *(max(start, min(end, x)) for s, e, _ in spans for x in (s, e))})
    parts = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        piece = escape(text[left:right])
        kinds = {k for s, e, k in spans if s <= left and right <= e}
        if "focus" in kinds:
            parts.append(f"<mark class='focus'>{piece}</mark>")
        elif "cited" in kinds:
            parts.append(f"<mark class='cited'>{piece}</mark>")
        else:
            parts.append(piece)
    before = f"<p class='elided'>… {start:,} characters before</p>" if start else ""
    after = (
        f"<p class='elided'>… {len(text) - end:,} characters after</p>" if end < len(text) else ""
    )
    return (
        f"<div class='document-name'>{escape(name)}</div>{before}"
        f"<div class='document-text'>{''.join(parts)}</div>{after}"
    )


def _passage_card(passage: Passage) -> str:
    return (
        f"<div class='source consulted'><div class='where'>{escape(passage.source)}, "
        f"characters {passage.start:,}–{passage.end:,}</div>"
        f"<div>{escape(passage.text)}</div></div>"
    )


def highlighted_paragraph(document: str, citation: Citation) -> str:
    """The paragraph around a citation, escaped, with the quoted words in <mark>."""
    start, end = next(
        ((s, e) for s, e in paragraph_spans(document) if s <= citation.start and citation.end <= e),
        (citation.start, citation.end),
    )
    return (
        f"<div class='paragraph'>{escape(document[start : citation.start])}"
        f"<mark>{escape(document[citation.start : citation.end])}</mark>"
        f"{escape(document[citation.end : end])}</div>"
    )
