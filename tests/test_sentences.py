"""Sentences as text really comes: wrapped, indented, CRLF, lists, headings, other scripts."""

import pytest

from rag.language.sentences import paragraph_spans, sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Liu met Mr. Lee on Oct. 1. They talked. “It is time,” he said. A U.S. visa!",
            [
                "Dr. Liu met Mr. Lee on Oct. 1.",
                "They talked.",
                "“It is time,” he said.",
                "A U.S. visa!",
            ],
        ),
        (
            "He fought in World War I. The war ended.",
            ["He fought in World War I.", "The war ended."],
        ),
        (
            "The abbey was built ca. 1500 by monks. It grew.",
            ["The abbey was built ca. 1500 by monks.", "It grew."],
        ),
        ("Call os.path.join() first. Then stop.", ["Call os.path.join() first.", "Then stop."]),
        ("我喜欢猫。你呢？好的！", ["我喜欢猫。", "你呢？", "好的！"]),
        ("यह एक वाक्य है। यह दूसरा है।", ["यह एक वाक्य है।", "यह दूसरा है।"]),
    ],
)
def test_sentence_ends(text, expected):
    assert sentences(text) == expected


def test_hard_wrapped_lines_join_into_sentences_with_offsets_into_the_original():
    text = "   The library is\n   thread safe. It uses no\n   globals.\n\n   Next paragraph."
    assert sentences(text) == [
        "The library is\n   thread safe.",
        "It uses no\n   globals.",
        "Next paragraph.",
    ]


def test_crlf_text_keeps_its_offsets():
    text = "Line one of a\r\nwrapped text. Done.\r\n\r\nNew para."
    assert sentences(text) == ["Line one of a\r\nwrapped text.", "Done.", "New para."]


def test_list_items_headings_and_code_end_paragraphs():
    text = (
        "DESCRIPTION\n  The tool reads files.\n  - first item that wraps\n    onto two lines\n"
        "  - second item\nUsage\n=====\nRun it like this:\n    tool --fast x\nThen read the output."
    )
    assert sentences(text) == [
        "DESCRIPTION",
        "The tool reads files.",
        "- first item that wraps\n    onto two lines",
        "- second item",
        "Usage",
        "Run it like this:",
        "tool --fast x",
        "Then read the output.",
    ]


def test_long_lines_are_paragraphs_of_their_own():
    first = "A headline without a stop"
    body = "This line is a whole paragraph, as web pages and news articles write them, " * 2
    text = f"{first}\n{body.strip()}"
    assert [text[s:e] for s, e in paragraph_spans(text)] == [first, body.strip()]
