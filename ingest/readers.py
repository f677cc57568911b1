"""Turn a file into text, or say in one line why it cannot be read."""

from __future__ import annotations

import html
import re
import resource
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

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


@dataclass(frozen=True)
class ReadLimits:
    """What reading one PDF or Word file may cost (RAG_MAX_EXPANDED_BYTES, RAG_READ_SECONDS)."""

    expanded_bytes: int = 100_000_000
    seconds: float = 60.0
    # The child's address space: the interpreter and pypdf need a few hundred MB of it.
    memory_bytes: int = 4_000_000_000


def read_document(path: Path, max_bytes: int, limits: ReadLimits = ReadLimits()) -> str:  # noqa: B008
    """The text of a file (plain text as on disk; HTML, PDF and Word extracted), or
    UnreadableFile."""
    try:
        text = _read(path, max_bytes, limits)
    except OSError as error:
        # No permission, a file gone mid-ingest, a failing disk: a skip like any other.
        reason = error.strerror or str(error)
        raise UnreadableFile(f"{path.name}: cannot be read ({reason})") from None
    if not text.lstrip("\ufeff").strip():
        raise UnreadableFile(f"{path.name}: no text in the file")
    return text


def _read(path: Path, max_bytes: int, limits: ReadLimits) -> str:
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(f"{path.name}: the file is empty")
    if size > max_bytes:
        raise UnreadableFile(f"{path.name}: {size:,} bytes is over the {max_bytes:,}-byte limit")
    suffix = path.suffix.lower()
    if suffix in (".pdf", ".docx"):
        return normalize(_extracted(path, limits))
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


def _extracted(path: Path, limits: ReadLimits) -> str:
    """A PDF's or Word file's text, read by a child process (ingest/extract.py) within the
    limits: whatever the file does to its parser, this file is skipped, nothing else."""
    command = [sys.executable, "-m", "ingest.extract", str(path), str(limits.expanded_bytes)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=limits.seconds,
            preexec_fn=_bounded(limits),  # noqa: PLW1509 - sets limits only, no threads touched
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UnreadableFile(
            f"{path.name}: took longer than {limits.seconds:g} s to read (RAG_READ_SECONDS)"
        ) from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = reason[-1] if reason else f"its reader stopped (status {done.returncode})"
        if done.returncode < 0 or "MemoryError" in said:
            said = "reading it needed more memory than allowed"
        raise UnreadableFile(f"{path.name}: {said}")
    return done.stdout.decode("utf-8", "replace")


def _bounded(limits: ReadLimits):
    """Limits of the child's memory and CPU time, set in it before it starts."""

    def bound() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    return bound
