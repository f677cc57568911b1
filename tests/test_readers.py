import re
from pathlib import Path

import pytest

from ingest.readers import read_document
from rag.errors import UnreadableFile


def test_binary_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(UnreadableFile, match="image.txt: binary"):
        read_document(path, 1_000_000)


def test_non_utf8_file_is_refused_with_the_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    with pytest.raises(UnreadableFile, match="latin1.txt: not UTF-8"):
        read_document(path, 1_000_000)


def test_empty_and_oversized_files_are_refused(tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_text("")
    with pytest.raises(UnreadableFile, match="empty"):
        read_document(empty, 1_000_000)
    big = tmp_path / "big.txt"
    big.write_text("a" * 2000)
    with pytest.raises(UnreadableFile, match="over the 1,000-byte limit"):
        read_document(big, 1000)


def test_html_keeps_visible_text_and_drops_scripts(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>T</title><script>alert(1)</script><style>p{}</style></head>"
        "<body><p>Hello &amp; welcome.</p><p>Second <b>para</b>.</p>"
        "<img src=x onerror=alert(1)></body></html>"
    )
    text = read_document(path, 1_000_000)
    assert "alert" not in text and "onerror" not in text
    assert "Hello & welcome." in text and "Second para." in text


def test_plain_text_is_kept_exactly_as_on_disk(tmp_path):
    path = tmp_path / "wrapped.txt"
    raw = "   Indented line\r\n   goes on.\r\n\r\n\tTabbed\u00a0text.\r\n"
    path.write_bytes(raw.encode("utf-8"))
    assert read_document(path, 1_000_000) == raw


def test_word_document_gives_its_paragraphs_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("The castle of Brenmoor was built in 1312.")
    document.add_paragraph("   ")
    row = document.add_table(rows=1, cols=2).rows[0]
    row.cells[0].text, row.cells[1].text = "Tower height", "40 m"
    path = tmp_path / "castle.docx"
    document.save(path)
    assert read_document(path, 10**6) == (
        "The castle of Brenmoor was built in 1312.\n\nTower height | 40 m"
    )


def test_pdf_gives_its_text(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure()
    figure.text(0.1, 0.5, "The lighthouse of Carrow was finished in 1867.")
    figure.savefig(tmp_path / "lighthouse.pdf")
    plt.close(figure)
    assert read_document(tmp_path / "lighthouse.pdf", 10**6) == (
        "The lighthouse of Carrow was finished in 1867."
    )


@pytest.mark.parametrize("suffix", [".docx", ".pdf"])
def test_a_broken_word_or_pdf_file_is_refused_with_its_name(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04 this is not really a zip or a PDF")
    with pytest.raises(UnreadableFile, match=f"broken{suffix}: not a readable"):
        read_document(path, 10**6)


def test_a_word_file_with_broken_xml_inside_is_refused_with_its_name(tmp_path):
    import zipfile

    import docx

    good = tmp_path / "good.docx"
    docx.Document().save(good)
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(
                item, b"<w:document><unclosed>" if "document.xml" in item.filename else data
            )
    with pytest.raises(UnreadableFile, match="broken.docx: not a readable Word document"):
        read_document(broken, 10**6)


MANUAL = Path(__file__).resolve().parent.parent / "bench/training/documents/pdf/bzip2-manual.pdf"


def test_a_real_pdf_manual_reads_as_people_read_it():
    """Running titles and page numbers never land inside a sentence, words hyphenated at a
    line end are whole again, a sentence runs on over a page break, and the table of
    contents is not text to quote."""
    from pypdf import PdfReader

    from rag.language.sentences import sentence_spans

    text = read_document(MANUAL, 10**8)
    sentences = [" ".join(text[s:e].split()) for s, e in sentence_spans(text)]
    pages = [page.extract_text() for page in PdfReader(MANUAL).pages]
    running = {page.splitlines()[0] for page in pages[4:12]}
    assert len(running) < 8  # the manual has running titles: some pages share one
    flat = " ".join(text.split())
    for title in running:
        # As often as the pages' bodies say it: not once more per page it headed.
        bodies = " ".join(" ".join(page.splitlines()[1:-1]) for page in pages)
        assert flat.count(title) == " ".join(bodies.split()).count(title), title
    assert not re.search(r"[a-z]- [a-z]", text)  # "manip- ulation"
    assert "DISCLAIMED" in text
    # The sentence that starts on one page and ends on the next is one sentence.
    assert any(
        s.endswith("in the region of 50 bytes.") and s.startswith("Files of") for s in sentences
    )
    assert not re.search(r"(\. ){4,}\d+$", text, re.M)  # no dot leaders left
    # Offsets index the stored text.
    assert all(text[s:e].strip() == text[s:e] for s, e in sentence_spans(text))
