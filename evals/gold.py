"""Read a gold file (one JSON object a line, the format in DESIGN.md) into validated GoldItems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from rag.errors import InvalidInput

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Alternatives = Annotated[list[NonEmpty], Field(min_length=1)]


class GoldItem(BaseModel):
    """One question with what a right answer must contain and the source text that proves it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: NonEmpty
    question: NonEmpty
    answer: str = ""
    # A list of groups; each group lists alternatives, one of which the answer must contain.
    # A flat list of strings is refused: it would be read as single-letter alternatives.
    must_include: list[Alternatives] = []
    evidence: list[NonEmpty] = []
    answerable: bool = True
    # An unanswerable question about something the documents do discuss, asking a detail
    # they do not give (a salary, a prize): refusing it is harder than an out-of-scope one.
    near_miss: bool = False
    history: list[NonEmpty] = []
    source: str | None = None
    line: int = Field(0, exclude=True, description="Line of the gold file, for error messages.")


class GoldFormatError(InvalidInput):
    """A gold file that breaks the format; the message names the file, line and item."""


def load_gold(path: Path) -> list[GoldItem]:
    """All items of a gold file; a malformed line is an error naming the file, line and item."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise GoldFormatError(f"cannot read the gold file {path}: {error}") from None
    items, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            item = _parse(line, f"{path}:{number}")
            if item.id in seen:
                raise GoldFormatError(f"{path}:{number}: item {item.id}: duplicate id")
            seen.add(item.id)
            items.append(item)
    if not items:
        raise GoldFormatError(f"{path}: no gold items")
    return items


def _parse(line: str, where: str) -> GoldItem:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise GoldFormatError(f"{where}: not JSON ({error.msg})") from None
    name = data.get("id", "?") if isinstance(data, dict) else "?"
    try:
        item = GoldItem.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise GoldFormatError(f"{where}: item {name}: {field}: {first['msg']}") from None
    if item.answerable and not (item.evidence and item.must_include):
        raise GoldFormatError(
            f"{where}: item {name}: answerable items need evidence and must_include"
        )
    if not item.answerable and (item.evidence or item.must_include):
        raise GoldFormatError(f"{where}: item {name}: unanswerable items have no evidence")
    return item.model_copy(update={"line": int(where.rsplit(":", 1)[1])})
