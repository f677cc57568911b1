"""Read one PDF or Word file in a child process: `python -m ingest.extract PATH MAX_EXPANDED`.

Their parsers are the part of ingest that a hostile or broken file can drive into minutes of
CPU, gigabytes of memory or any exception of pypdf, python-docx, zipfile or zlib. In a child,
whatever happens costs only that file: the parent (ingest/readers.py) bounds its time and
memory and turns any failure into one line naming the file. The text goes to stdout as UTF-8;
on failure, one line saying why goes to stderr and the exit status is 1.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from ingest.pdf import page_text


class Refused(Exception):
    """The file is refused before its parser runs (a limit)."""


def extract(path: Path, max_expanded: int) -> str:
    """The raw text of a PDF or Word file."""
    if path.suffix.lower() == ".docx":
        return _docx(path, max_expanded)
    from pypdf import PdfReader, overwrite_configuration  # noqa: PLC0415 - one kind of file

    # pypdf bounds what each stream may expand to (75 MB each by default): ours instead.
    overwrite_configuration(
        **{
            f"{kind}_maximum_output_length": max_expanded
            for kind in ("zlib", "lzw", "run_length", "jbig2", "brotli")
        },
        array_based_stream_maximum_output_length=max_expanded,
        maximum_declared_stream_length=max_expanded,
    )
    from pypdf.errors import LimitReachedError  # noqa: PLC0415

    try:
        return page_text([page.extract_text() or "" for page in PdfReader(path).pages])
    except LimitReachedError:
        raise Refused(f"its contents expand past the {max_expanded:,}-byte limit") from None


def _docx(path: Path, max_expanded: int) -> str:
    """Paragraphs and table cells of a Word document, in order, a blank line between each."""
    import docx  # noqa: PLC0415

    # A zip's members are read up to their declared sizes, so the declared total bounds what
    # the parser can be made to inflate: checked before any of it is.
    with zipfile.ZipFile(path) as archive:
        expanded = sum(member.file_size for member in archive.infolist())
    if expanded > max_expanded:
        raise Refused(
            f"its contents expand to {expanded:,} bytes, over the {max_expanded:,}-byte limit"
        )
    document = docx.Document(str(path))
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        blocks += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    return "\n\n".join(b.strip() for b in blocks if b.strip())


def main() -> int:
    path, max_expanded = Path(sys.argv[1]), int(sys.argv[2])
    try:
        text = extract(path, max_expanded)
    except Refused as error:
        print(error, file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - any parser failure is "not readable", said once
        kind = "Word document" if path.suffix.lower() == ".docx" else "PDF"
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        print(f"not a readable {kind} ({detail})", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(text.encode("utf-8", "surrogatepass"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
