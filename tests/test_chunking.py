import random

from ingest.chunking import split_passages
from rag.language.words import normalize
from tests.conftest import SEED


def _check_invariant(text, passages):
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.text.strip() == p.text and p.text


def test_offsets_invariant_on_the_seed_article():
    text = normalize(SEED.read_text(encoding="utf-8"))
    passages = split_passages("seeds/a.txt", text, 500, 1)
    _check_invariant(text, passages)
    assert all(len(p.text) <= 500 for p in passages)
    # Every character of text is in some passage, except the whitespace between them.
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_offsets_invariant_on_random_texts():
    rng = random.Random(7)
    alphabet = [
        "word",
        "Dr.",
        "U.S.",
        "end.",
        "why?",
        "“quote,”",
        "\n",
        "\n\n",
        "é",
        "—",
        "x" * 700,
    ]
    for _ in range(200):
        text = normalize(" ".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120))))
        if not text:
            continue
        passages = split_passages("doc", text, rng.choice([50, 200, 500]), rng.choice([0, 1, 2]))
        _check_invariant(text, passages)


def test_ids_are_stable_and_depend_on_content():
    text = normalize(SEED.read_text(encoding="utf-8"))
    first = split_passages("seeds/a.txt", text, 500, 1)
    again = split_passages("seeds/a.txt", text, 500, 1)
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)
    # A same-length edit near the start: every offset stays put, only the edited passages change.
    at = text.index("Liu Jun")
    edited_text = text.replace("Liu Jun", "Liu Xun", 1)
    edited = split_passages("seeds/a.txt", edited_text, 500, 1)
    assert [(p.start, p.end) for p in edited] == [(p.start, p.end) for p in first]
    touched = [i for i, p in enumerate(first) if p.start <= at < p.end]
    untouched = [i for i in range(len(first)) if i not in touched]
    assert touched and touched[-1] < len(first) - 1  # the last passage is among the untouched
    for i in touched:
        assert edited[i].id != first[i].id
    for i in untouched:
        assert edited[i].text == first[i].text and edited[i].id == first[i].id
