"""Conversations that persist (ui/conversations.py): per user, whole, exactly as answered."""

import json
import stat

import pytest

from rag.errors import InvalidInput
from rag.types import Answer, Citation
from ui.conversations import Conversations


def answer(question: str) -> Answer:
    quote = "The ferry leaves at nine."
    citation = Citation(1, "p1", "docs/ferry.md", 10, 10 + len(quote), quote, "d1")
    return Answer(question, f"{quote} [1]", (citation,), standalone_question=question)


def test_a_conversation_reopens_exactly_as_it_was_answered(tmp_path):
    mine = Conversations(tmp_path, "ann")
    first = mine.add(None, answer("When does the ferry leave?"))
    mine.add(first.id, answer("And on Sundays?"))
    (listed,) = mine.all()
    assert (listed.id, listed.title, listed.answers) == (
        first.id,
        "When does the ferry leave?",
        2,
    )
    reopened = mine.get(first.id)
    assert [a.to_dict() for a in reopened.answers] == [
        answer("When does the ferry leave?").to_dict(),
        answer("And on Sundays?").to_dict(),
    ]


def test_one_user_never_sees_anothers_conversations(tmp_path):
    ann, bob = Conversations(tmp_path, "ann"), Conversations(tmp_path, "bob")
    hers = ann.add(None, answer("When does the ferry leave?"))
    assert bob.all() == [] and bob.get(hers.id) is None
    with pytest.raises(InvalidInput):
        bob.delete(hers.id)
    with pytest.raises(InvalidInput):
        bob.rename(hers.id, "mine now")
    assert ann.get(hers.id).title == "When does the ferry leave?"
    # No id reaches outside the user's folder.
    assert ann.get("../" + hers.id) is None and ann.get("") is None


def test_rename_and_delete(tmp_path):
    mine = Conversations(tmp_path, "ann")
    old = mine.add(None, answer("When does the ferry leave?"))
    new = mine.add(None, answer("Who founded the cafe?"))
    assert [c.id for c in mine.all()] == [new.id, old.id]  # the latest changed first
    mine.rename(old.id, "  Ferry   times ")
    assert mine.get(old.id).title == "Ferry times"
    with pytest.raises(InvalidInput, match="needs a title"):
        mine.rename(old.id, "   ")
    mine.delete(old.id)
    assert [c.id for c in mine.all()] == [new.id]


def test_conversations_are_private_files_written_whole(tmp_path):
    mine = Conversations(tmp_path, "ann")
    saved = mine.add(None, answer("When does the ferry leave?"))
    (path,) = mine.folder.iterdir()  # no temporary file is left beside it
    assert path.name == f"{saved.id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(mine.folder.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["answers"][0]["citations"][0]["quote"] == (
        "The ferry leaves at nine."
    )
