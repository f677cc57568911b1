"""HTML for the sources panel. Document and model text is always escaped: it is shown, never run."""

from __future__ import annotations

import re
from html import escape

from rag.language.sentences import paragraph_spans
from rag.types import Answer, Citation, Passage

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
#cite-target { display: none !important; }
"""

# Markers become links; a click hands "answer:marker" to the hidden #cite-target box, whose
# input event asks the app for that answer's source. Runs once when the page loads.
CITATION_CLICKS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.cite');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    // The chat's sanitizer keeps href but drops data attributes: "#cite-ANSWER-N".
    const [answer, n] = link.getAttribute('href').split('-').slice(1);
    const box = document.querySelector('#cite-target textarea');
    box.value = `${answer}:${n}:${Date.now()}`;
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);
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


def sources_html(answer: Answer | None, paragraphs: dict[int, str], selected: int | None) -> str:
    """Cited sources first, numbered as in the answer; consulted passages folded below."""
    if answer is None:
        return "<div id='sources-empty'>Sources of the answer appear here.</div>"
    parts = []
    if answer.refused:
        parts.append(
            "<p class='refusal'>The sources do not answer this question, so nothing is cited.</p>"
        )
    for c in answer.citations:
        parts.append(_citation_card(c, paragraphs.get(c.n, c.quote), c.n == selected))
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


def _citation_card(citation: Citation, paragraph_html: str, selected: bool) -> str:
    classes = "source selected" if selected else "source"
    return (
        f"<div class='{classes}' id='source-{citation.n}' data-n='{citation.n}'>"
        f"<div class='where'>[{citation.n}] {escape(citation.source)}, characters "
        f"{citation.start:,}–{citation.end:,}</div>{paragraph_html}</div>"
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
