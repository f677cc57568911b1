from rag.text import content_terms, normalize, sentence_spans


def test_normalize_unifies_newlines_spaces_and_control_characters():
    raw = "Title\r\n\r\n\r\n\r\nLine one.\u00a0  \r\nLine\x07 two.\t\n"
    assert normalize(raw) == "Title\n\nLine one.\nLine two."


def test_sentences_split_on_end_punctuation_but_not_abbreviations():
    text = "Dr. Liu met Mr. Lee on Oct. 1. They talked. “It is time,” he said. A U.S. visa!"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Liu met Mr. Lee on Oct. 1.",
        "They talked.",
        "“It is time,” he said.",
        "A U.S. visa!",
    ]


def test_sentence_offsets_are_exact_and_lines_never_merge():
    text = "First line without a stop\nSecond line. Third one?\n\nFourth."
    spans = sentence_spans(text, offset=100)
    assert [text[s - 100 : e - 100] for s, e in spans] == [
        "First line without a stop",
        "Second line.",
        "Third one?",
        "Fourth.",
    ]


def test_content_terms_drop_stopwords_and_stem():
    assert content_terms("Why did the researchers return to China?") == [
        "research",
        "return",
        "china",
    ]
