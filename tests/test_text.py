from rag.language.words import content_terms, normalize


def test_normalize_unifies_newlines_spaces_and_control_characters():
    raw = "Title\r\n\r\n\r\n\r\nLine one.\u00a0  \r\nLine\x07 two.\t\n"
    assert normalize(raw) == "Title\n\nLine one.\nLine two."


def test_content_terms_drop_stopwords_and_stem():
    assert content_terms("Why did the researchers return to China?") == [
        "research",
        "return",
        "china",
    ]
