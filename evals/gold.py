"""Read a gold file (one JSON object a line, the format in DESIGN.md) into GoldItems."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError


@dataclass(frozen=True)
class GoldItem:
    """One question with what a right answer must contain and the source text that proves it."""

    id: str
    question: str
    answer: str = ""
    must_include: list[list[str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    answerable: bool = True
    history: list[str] = field(default_factory=list)
    source: str | None = None


def load_gold(path: Path) -> list[GoldItem]:
    """All items of a gold file; a malformed line is an error naming the line."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise RagError(f"cannot read the gold file {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            items.append(
                GoldItem(
                    id=str(data.get("id", f"line-{number}")),
                    question=data["question"],
                    answer=data.get("answer", ""),
                    must_include=[list(group) for group in data.get("must_include", [])],
                    evidence=list(data.get("evidence", [])),
                    answerable=bool(data.get("answerable", True)),
                    history=list(data.get("history") or []),
                    source=data.get("source"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise RagError(f"{path}:{number}: not a gold item ({error})") from None
    if not items:
        raise RagError(f"{path}: no gold items")
    return items
