from rag.types import Answer, Citation, Passage
from ui.library import safe_name, upload_target
from ui.render import as_text, highlighted_paragraph, sources_html

DOC = "Intro line.\n\nThe <b>bold</b> claim <img src=x onerror=alert(1)> is here. Tail.\n\nEnd."


def _citation():
    start = DOC.index("The <b>")
    end = DOC.index("here.") + len("here.")
    return Citation(1, "p1", "docs/<evil>.txt", start, end, DOC[start:end])


def test_highlight_escapes_document_markup_and_marks_the_quote():
    html = highlighted_paragraph(DOC, _citation())
    assert "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<mark>") == 1 and "Tail." in html and "Intro" not in html


def test_sources_panel_lists_cited_first_and_folds_the_rest():
    c = _citation()
    cited = Passage("p1", c.source, "x", 0, 1)
    other = Passage("p2", "docs/other.txt", "<script>alert(2)</script>", 5, 30)
    answer = Answer("q", "claim [1]", (c,), passages=(cited, other))
    html = sources_html(answer, {1: highlighted_paragraph(DOC, c)}, selected=1)
    assert html.index("source selected") < html.index("<details")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "docs/&lt;evil&gt;.txt" in html


def test_refusal_panel_says_so_without_sources():
    answer = Answer("q", "The sources do not say.", refused=True)
    html = sources_html(answer, {}, None)
    assert "refusal" in html and "source selected" not in html


def test_refusal_offers_the_nearest_passages_as_related_not_cited():
    near = Passage("p2", "docs/other.txt", "A passage near the question.", 5, 33)
    answer = Answer("q", "The sources do not say.", refused=True, passages=(near,))
    html = sources_html(answer, {}, None)
    assert "id='related' open" in html and "related passages, not cited" in html
    assert "A passage near the question." in html


def test_the_highlighted_paragraph_of_a_hard_wrapped_file_is_its_whole_paragraph():
    doc = "Heading\n\n  First wrapped line of the\n  paragraph. Quoted words\n  here.\n\nNext."
    start = doc.index("Quoted")
    end = doc.index("here.") + len("here.")
    html = highlighted_paragraph(doc, Citation(1, "p", "d.txt", start, end, doc[start:end]))
    assert "First wrapped line" in html and "Next." not in html and "Heading" not in html


def test_upload_names_are_sanitized():
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("C:\\Users\\me\\My Notes!.MD") == "My-Notes.md"
    assert safe_name("....html") == "document.html"
    # Names in any script are kept, normalised (NFC: one code point for "é").
    assert safe_name("my notes – cafe\u0301 文件.txt") == "my-notes-café-文件.txt"
    assert safe_name("..\\..\\отчёт 2024.PDF") == "отчёт-2024.pdf"
    assert as_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_an_upload_never_overwrites_a_different_earlier_upload(tmp_path):
    assert upload_target(tmp_path, "notes.md", b"first") == tmp_path / "notes.md"
    (tmp_path / "notes.md").write_bytes(b"first")
    assert upload_target(tmp_path, "notes.md", b"first") == tmp_path / "notes.md"  # the same file
    assert upload_target(tmp_path, "notes.md", b"second") == tmp_path / "notes-2.md"
    (tmp_path / "notes-2.md").write_bytes(b"second")
    assert upload_target(tmp_path, "notes.md", b"third") == tmp_path / "notes-3.md"
