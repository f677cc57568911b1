"""Finding documents of the library by what people type: a name, a path or an id."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rag.errors import UnknownDocument
from rag.types import Document


def matching(documents: list[Document], wanted: str) -> list[Document]:
    """The documents `wanted` names: its id, its name (docs/history.txt) or its file's path.

    A name two folders share matches both; UnknownDocument when nothing matches."""
    path = str(Path(wanted).expanduser().resolve())
    found = [d for d in documents if wanted in (d.id, d.name) or d.path == path]
    if not found:
        names = ", ".join(d.name for d in documents[:8]) or "none: the library is empty"
        raise UnknownDocument(f"no document named {wanted!r} in the library; it has {names}")
    return found


def one_document(documents: list[Document], wanted: str) -> Document:
    """The single document `wanted` names; UnknownDocument when it names none or several."""
    found = matching(documents, wanted)
    if len(found) > 1:
        paths = " or ".join(d.path for d in found)
        raise UnknownDocument(f"{wanted!r} names {len(found)} documents; give its path: {paths}")
    return found[0]


def named_documents(documents: list[Document], wanted: list[str]) -> list[Document]:
    """The one document each of `wanted` names, each once; every name is checked before
    anything is returned, so a typo among them changes nothing (UnknownDocument)."""
    return list({d.id: d for d in (one_document(documents, w) for w in wanted)}.values())


def scope_of(documents: list[Document], wanted: list[str]) -> frozenset[str]:
    """The ids of the documents a question is restricted to (empty: the whole library)."""
    return frozenset(d.id for name in wanted for d in matching(documents, name))


def for_readers(documents: list[Document]) -> list[Document]:
    """The documents as a reader may know them: no server paths, not who added them (so a
    reader can neither list nor confirm a guessed path by naming it)."""
    return [replace(d, path="", added_by="") for d in documents]


def table(documents: list[Document]) -> str:
    """The library as aligned columns for the terminal (the path last, unpadded)."""
    header = ("name", "passages", "characters", "ingested at (UTC)", "added by", "path")
    rows = [header] + [
        (d.name, str(d.passages), f"{d.chars:,}", d.ingested_at, d.added_by or "-", d.path)
        for d in documents
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    numbers = {1, 2}

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if i in numbers else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        return "  ".join([*cells, row[-1]])

    return "\n".join(line(row) for row in rows)
