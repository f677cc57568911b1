"""Which PDF extractor keeps words and spaces best: pypdf (plain and layout modes),
pdfminer.six and pdfplumber on real manuals, timed, in one run.

    pip install pdfminer.six pdfplumber   # for the comparison only; ingest uses pypdf
    python bench/pdf_extractors.py [PDF ...]     # writes bench/pdf_extractors.json

Counted per extractor: characters, line-end hyphenations left ("manip-\\nulation"), and words
glued together (a lower-case run straight into a capitalised word with no space,
"andHuffmancoding"), a symptom of columns or spacing lost. Identifiers such as
"workFactor" count too: the same ones for every extractor, so the differences are what
matters. ingest/pdf.py then repairs what pypdf leaves (page furniture, hyphenation).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [
    Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    ROOT / "bench/training/documents/pdf/bzip2-manual.pdf",
]
GLUED = re.compile(r"\b[a-z]{3,}[A-Z][a-z]{2,}\b")


def pypdf_plain(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def pypdf_layout(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text(extraction_mode="layout") or "" for page in PdfReader(path).pages]


def pdfminer(path: Path) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return [
        "\n".join(box.get_text() for box in layout if isinstance(box, LTTextContainer))
        for layout in extract_pages(str(path))
    ]


def pdfplumber(path: Path) -> list[str]:
    import pdfplumber as plumber

    with plumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [p for p in DEFAULT if p.exists()]
    results = []
    for path in paths:
        for name, extract in (
            ("pypdf", pypdf_plain),
            ("pypdf-layout", pypdf_layout),
            ("pdfminer.six", pdfminer),
            ("pdfplumber", pdfplumber),
        ):
            started = time.perf_counter()
            try:
                text = "\n".join(extract(path))
            except ImportError as error:
                print(f"{name}: not installed ({error})")
                continue
            results.append(
                {
                    "pdf": path.name,
                    "extractor": name,
                    "seconds": round(time.perf_counter() - started, 2),
                    "characters": len(text),
                    "hyphenated_line_ends": len(re.findall(r"[a-z]-\n[a-z]", text)),
                    "glued_words": len(GLUED.findall(text)),
                }
            )
            print(results[-1])
    out = ROOT / "bench" / "pdf_extractors.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
