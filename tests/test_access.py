"""Access decided from the users file as it is now, and the reading limits that keep one bad
file from stalling or poisoning an ingest (unit level; tests/test_sharing.py drives the same
through real servers)."""

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from rag.access.limits import RateLimit
from rag.access.policy import Access
from rag.access.users import Users
from rag.errors import UnreadableFile
from rag.settings import Settings

PASSWORD = "long-enough-1"


@pytest.fixture
def users(tmp_path):
    return Users(tmp_path / "users.json")


def test_a_removed_user_is_let_in_nowhere_at_once(users):
    users.add("carl", "editor", PASSWORD)
    key = users.add("rita", "reader", PASSWORD)
    access = Access(users, exposed=False)
    assert access.page_visitor("carl", "127.0.0.1").may_edit
    users.remove("carl")
    assert access.page_visitor("carl", "127.0.0.1") is None
    assert access.api_visitor(key, "127.0.0.1").role == "reader"
    users.remove("rita")
    assert access.api_visitor(key, "127.0.0.1") is None


def test_with_its_last_user_removed_a_server_lets_nobody_in_rather_than_everybody(users):
    users.add("rita", "reader", PASSWORD)
    access = Access(users, exposed=False)
    users.remove("rita")
    assert access.sign_in_required()
    assert access.page_visitor(None, "127.0.0.1") is None
    assert access.api_visitor("", "127.0.0.1") is None


def test_a_server_started_without_users_asks_for_sign_in_once_one_exists(users):
    access = Access(users, exposed=False)
    assert access.page_visitor(None, "127.0.0.1").may_edit  # the person at this machine
    users.add("rita", "reader", PASSWORD)
    assert access.sign_in_required()
    assert access.page_visitor(None, "127.0.0.1") is None
    assert access.page_visitor("rita", "127.0.0.1").role == "reader"


def test_beyond_loopback_nobody_is_served_anonymously_whatever_the_users_file(users):
    # Started with a key only (no users): RAG_API_KEY must be given, nothing else lets in.
    access = Access(users, exposed=True, api_key="k" * 20)
    assert access.api_visitor("", "10.0.0.9") is None
    assert access.api_visitor("k" * 20, "10.0.0.9").may_edit
    assert access.page_visitor(None, "10.0.0.9") is None
    # --insecure is the one way to serve everyone there, and it says so at start.
    assert Access(users, exposed=True, insecure=True).page_visitor(None, "10.0.0.9")


def test_once_sign_in_is_on_emptying_the_users_file_opens_nothing(users):
    access = Access(users, exposed=False)  # started open, as `make run` starts it
    users.add("rita", "reader", PASSWORD)
    assert access.page_visitor(None, "127.0.0.1") is None
    users.remove("rita")
    assert access.page_visitor(None, "127.0.0.1") is None


NULL_FIELDS = (
    '{"users": [{"name": "x", "role": "editor", "password_hash": null, "key_hash": null}]}'
)
DAMAGED = '{"users": [{"name": "x", "role": "editor", "password_hash": "garbage", "key_hash": ""}]}'


@pytest.mark.parametrize(
    "content", ["[]", "null", '{"users": 5}', '{"users": [{"name": "x"}]}', NULL_FIELDS, DAMAGED]
)
def test_a_users_file_of_another_shape_is_one_line_that_locks_everyone_out(users, content):
    from rag.errors import RagError

    users.path.write_text(content)
    with pytest.raises(RagError, match="cannot read the users file"):
        Access(users, exposed=False)


def test_wrong_passwords_lock_the_name_for_a_while(users):
    now = [0.0]
    users.add("rita", "reader", PASSWORD)
    access = Access(users, exposed=False, clock=lambda: now[0])
    assert all(not access.password_ok("rita", "wrong-guess") for _ in range(5))
    # Locked: even the right password is refused unchecked, for a minute.
    assert not access.password_ok("rita", PASSWORD)
    now[0] += 61
    assert access.password_ok("rita", PASSWORD)
    assert access.password_ok("rita", PASSWORD)  # a success clears the count


def test_readers_cannot_confirm_a_guessed_path_by_naming_it():
    from rag.errors import UnknownDocument
    from rag.library.catalog import for_readers, scope_of
    from rag.types import Document

    documents = [Document("d1", "docs/a.md", "/srv/secret/docs/a.md", 3, 90, "t", "ann")]
    assert scope_of(documents, ["/srv/secret/docs/a.md"]) == {"d1"}
    with pytest.raises(UnknownDocument):
        scope_of(for_readers(documents), ["/srv/secret/docs/a.md"])
    assert scope_of(for_readers(documents), ["docs/a.md"]) == {"d1"}


def test_an_empty_api_key_is_an_error_not_no_key(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        Settings(home=tmp_path, api_key="")
    with pytest.raises(ValueError, match="empty"):
        Settings(home=tmp_path, api_key="   ")


def test_the_users_file_is_private_from_its_first_byte(users, monkeypatch):
    # chmod after writing leaves a moment when the hashes are readable by others; the file
    # must be created private, so it is private even if nothing changes its mode later.
    def no_chmod(self, mode, **kwargs):
        raise AssertionError(f"{self.name} was made private only after it was written")

    monkeypatch.setattr(Path, "chmod", no_chmod)
    users.add("rita", "reader", PASSWORD)
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600


def test_a_batch_over_the_allowance_uses_none_of_it():
    uploads = RateLimit(limit=20, window=3600)
    assert uploads.room("eddie") == 20
    # 21 files are refused whole: the hour's allowance is still there for 20.
    assert uploads.room("eddie") < 21
    uploads.spend("eddie", 3)  # only what was added counts
    assert uploads.room("eddie") == 17
    assert RateLimit(limit=0, window=60).room("anyone") > 10**6


def test_segmenting_a_long_paragraph_costs_time_in_proportion_to_its_length(monkeypatch):
    from rag.language import sentences

    seen: list[int] = []
    real = sentences._segmenter

    class Recording:
        def __init__(self, language):
            self.inner = real(language)

        def segment(self, text):
            seen.append(len(text))
            return self.inner.segment(text)

    monkeypatch.setattr(sentences, "_segmenter", Recording)
    sentence = "The ferry leaves the harbour at nine and returns at noon. "
    paragraph = sentence * 6000  # 350,000 characters, no line breaks
    table = sentences.sentence_table(paragraph)
    # pysbd's time grows with the square of what it is given: it is never given more than
    # a window, so the whole costs time in proportion to the paragraph.
    assert max(seen) <= sentences.SEGMENT_WINDOW
    assert len(table) == 6000
    assert all(paragraph[s:e] == sentence.strip() for _, _, s, e in table)


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("The harbour ferry carries nine thousand commuters a day.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _member(data: bytes, name: str) -> tuple[zipfile.ZipInfo, list[int]]:
    """A zip member's info and the offsets of its two headers (local, central)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    return info, [info.header_offset, central]


def _with_field(data: bytes, name: str, local: int, central: int, value) -> bytes:
    """The zip with a 2-byte header field of one member set to `value(old)` in both of its
    headers: its structure kept, as an unusual or damaged file would have it."""
    info, (local_at, central_at) = _member(data, name)
    changed = bytearray(data)
    for at in (local_at + local, central_at + central):
        (old,) = struct.unpack("<H", changed[at : at + 2])
        changed[at : at + 2] = struct.pack("<H", value(old))
    return bytes(changed)


def _corrupt_deflate(data: bytes, name: str) -> bytes:
    info, (local_at, _) = _member(data, name)
    name_len, extra_len = struct.unpack("<HH", data[local_at + 26 : local_at + 30])
    start = local_at + 30 + name_len + extra_len
    return data[:start] + b"\xff" * 16 + data[start + 16 :]


def _bomb() -> bytes:
    """A Word file whose document part expands to 30 MB from a few kilobytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_docx_bytes())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            bomb.writestr(item, source.read(item.filename))
        bomb.writestr("word/padding.xml", b"\0" * 30_000_000)
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret-pass", owner_password="owner-pass", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


DOCUMENT_PART = "word/document.xml"


def _expanding_pdf(padding: int) -> bytes:
    """A one-page PDF whose Flate content stream shows one sentence, then `padding` spaces:
    a few kilobytes on disk."""
    import zlib

    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 300)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): font})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    stream = StreamObject()
    stream._data = zlib.compress(
        b"BT /F1 12 Tf 72 200 Td (Wombats are marsupials.) Tj ET" + b" " * padding
    )
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BROKEN = {
    "corrupt-deflate.docx": lambda: _corrupt_deflate(_docx_bytes(), DOCUMENT_PART),
    # Compression method 99 (AES) in both headers.
    "unknown-method.docx": lambda: _with_field(_docx_bytes(), DOCUMENT_PART, 8, 10, lambda _: 99),
    # The "encrypted" flag (bit 0 of the general purpose flags) in both headers.
    "encrypted-member.docx": lambda: _with_field(
        _docx_bytes(), DOCUMENT_PART, 6, 8, lambda flags: flags | 1
    ),
    "expands-too-far.docx": _bomb,
    "encrypted.pdf": _encrypted_pdf,
    "expands-too-far.pdf": lambda: _expanding_pdf(30_000_000),
    "truncated.pdf": lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_file_its_parser_cannot_read_is_named_in_one_line(tmp_path, name):
    from ingest.readers import ReadLimits, read_document

    path = tmp_path / name
    path.write_bytes(BROKEN[name]())
    with pytest.raises(UnreadableFile) as refused:
        read_document(path, 10**8, ReadLimits(expanded_bytes=10_000_000))
    said = str(refused.value)
    assert said.startswith(f"{name}: ") and "\n" not in said, said
    if name.startswith("expands-too-far"):
        assert "10,000,000-byte limit" in said


def test_a_pdf_within_the_expansion_limit_is_read(tmp_path):
    from ingest.readers import ReadLimits, read_document

    path = tmp_path / "small.pdf"
    path.write_bytes(_expanding_pdf(1_000_000))
    assert read_document(path, 10**8, ReadLimits(expanded_bytes=10_000_000)) == (
        "Wombats are marsupials."
    )


def test_a_file_that_takes_too_long_to_read_is_skipped_at_the_time_limit(tmp_path):
    from ingest.readers import ReadLimits, read_document

    path = tmp_path / "slow.docx"
    path.write_bytes(_docx_bytes())
    # A real child process, stopped at a limit no reader can meet.
    with pytest.raises(UnreadableFile, match=r"slow.docx: took longer than 0.01 s to read"):
        read_document(path, 10**8, ReadLimits(seconds=0.01))
    assert "nine thousand commuters" in read_document(path, 10**8)


@pytest.mark.integration
def test_passages_of_a_killed_ingest_are_swept_by_the_next(tmp_path, monkeypatch):
    from ingest.pipeline import ingest
    from rag.library.store import PassageStore

    settings = Settings(home=tmp_path / "home")
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    (first / "ferry.md").write_text("The harbour ferry carries nine thousand commuters a day.\n")
    (second / "tram.md").write_text("The hill tram climbs two hundred metres in four minutes.\n")

    # A kill between writing the passages and saving the text, faked by an exception at
    # that moment (a real SIGKILL cannot be aimed at it).
    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(PassageStore, "save_document", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest([first], settings, progress=False)
    monkeypatch.undo()
    store = PassageStore(settings)
    assert store.count() == 1 and store.documents() == []  # an orphan: listed nowhere
    (first / "ferry.md").unlink()  # and its file is gone, so no ingest of it would mend it
    report = ingest([second], settings, progress=False)
    assert report.passages_deleted == 1
    assert [d.name for d in store.documents()] == ["second/tram.md"] and store.count() == 1


@pytest.mark.integration
def test_a_new_version_killed_mid_write_leaves_only_the_saved_versions_passages(
    tmp_path, monkeypatch
):
    from ingest.pipeline import ingest
    from rag.library.store import PassageStore

    settings = Settings(home=tmp_path / "home", chunk_chars=120)
    folder, other = tmp_path / "docs", tmp_path / "other"
    folder.mkdir(), other.mkdir()
    note = folder / "ferry.md"
    note.write_text("The harbour ferry leaves at nine. It returns at noon. It carries bikes.\n")
    (other / "tram.md").write_text("The hill tram climbs two hundred metres in four minutes.\n")
    ingest([folder], settings, progress=False)
    (document,) = PassageStore(settings).documents()
    note.write_text(
        "The new ferry timetable starts in May. Boats leave every hour from eight. "
        "The last boat returns at ten in the evening. Bicycles ride free on weekdays.\n"
    )

    def killed(*args, **kwargs):  # a kill after the new passages, before the new text
        raise KeyboardInterrupt

    monkeypatch.setattr(PassageStore, "save_document", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], settings, progress=False)
    monkeypatch.undo()
    store = PassageStore(settings)
    assert len(store.passage_ids(document.id)) > document.passages  # new ones, unlisted
    note.unlink()  # gone, so no ingest of it will mend this
    ingest([other], settings, progress=False)
    assert len(store.passage_ids(document.id)) == document.passages


def test_a_long_chat_history_costs_no_more_than_its_last_turns(monkeypatch):
    import ui.api

    read: list[str] = []
    monkeypatch.setattr(ui.api, "condense", lambda turn, history: read.append(turn) or turn)
    history = ui.api._standalone([f"question {n}" for n in range(10_000)])
    assert len(read) == ui.api.HISTORY_TURNS and history[-1] == "question 9999"
