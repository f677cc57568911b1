"""Turn a file into text, or say in one line why it cannot be read."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from ingest.pdf import page_text
from rag.errors import UnreadableFile
from rag.language.words import normalize

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "title",
}


def read_document(path: Path, max_bytes: int) -> str:
    """The text of a file (plain text as on disk; HTML, PDF and Word extracted), or
    UnreadableFile."""
    try:
        text = _read(path, max_bytes)
    except OSError as error:
        # No permission, a file gone mid-ingest, a failing disk: a skip like any other.
        reason = error.strerror or str(error)
        raise UnreadableFile(f"{path.name}: cannot be read ({reason})") from None
    if not text.lstrip("\ufeff").strip():
        raise UnreadableFile(f"{path.name}: no text in the file")
    return text


def _read(path: Path, max_bytes: int) -> str:
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(f"{path.name}: the file is empty")
    if size > max_bytes:
        raise UnreadableFile(f"{path.name}: {size:,} bytes is over the {max_bytes:,}-byte limit")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return normalize(_read_pdf(path))
    if suffix == ".docx":
        return normalize(_read_docx(path))
    if suffix in (".html", ".htm"):
        return normalize(_html_to_text(_decode(path).removeprefix("\ufeff")))
    # Exactly as on disk (indentation, CRLF, a byte order mark and all): citations index the
    # file itself, as `Path.read_text(encoding="utf-8")` gives it.
    return _decode(path)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableFile(f"{path.name}: binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"{path.name}: not UTF-8 text (bad byte at offset {error.start})"
        ) from None


class _TextExtractor(HTMLParser):
    """Keeps visible text only: scripts and styles are dropped, blocks become lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html_to_text(raw: str) -> str:
    parser = _TextExtractor()
    parser.feed(raw)
    parser.close()
    return html.unescape("".join(parser.parts))


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader  # noqa: PLC0415 - only for PDFs
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    try:
        return page_text([page.extract_text() or "" for page in PdfReader(path).pages])
    except (PdfReadError, ValueError) as error:
        raise UnreadableFile(f"{path.name}: not a readable PDF ({error})") from None


def _read_docx(path: Path) -> str:
    """Paragraphs and table cells of a Word document, in order, a blank line between each."""
    from zipfile import BadZipFile  # noqa: PLC0415

    import docx  # noqa: PLC0415 - only for Word files
    from docx.opc.exceptions import PackageNotFoundError  # noqa: PLC0415

    try:
        document = docx.Document(str(path))
        blocks = [p.text for p in document.paragraphs]
        for table in document.tables:
            blocks += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    except (BadZipFile, PackageNotFoundError, KeyError, ValueError, SyntaxError) as error:
        # lxml's XMLSyntaxError is a SyntaxError: a zip with broken XML inside.
        raise UnreadableFile(f"{path.name}: not a readable Word document ({error})") from None
    return "\n\n".join(b.strip() for b in blocks if b.strip())
