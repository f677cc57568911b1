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
