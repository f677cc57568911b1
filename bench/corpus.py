"""A corpus of real documents every machine has offline: the standard library's pydoc pages.

    python bench/corpus.py [--docs 2000]     # writes bench/out/corpus/*.txt

One document per module, then per public class and function, rendered as plain text by pydoc
until `--docs` documents exist. Nobody here wrote them, and they are not about the article.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import pydoc
import re
import sys
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "corpus"
SKIP = {
    "antigravity",
    "this",
    "idlelib",
    "turtledemo",
    "tkinter",
    "turtle",
    "test",
    "lib2to3",
    "ensurepip",
    "venv",
    "pydoc_data",
    "__hello__",
    "__phello__",
    "_pydecimal",
}


def build(count: int, out: Path = OUT) -> list[Path]:
    """At least `count` pydoc pages as .txt files under `out` (reused when already there)."""
    out.mkdir(parents=True, exist_ok=True)
    existing = sorted(out.glob("*.txt"))
    if len(existing) >= count:
        return existing[:count]
    written = []
    for name, obj in _objects():
        text = _render(obj)
        if len(text) < 150:
            continue
        path = out / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.txt"
        path.write_text(text, encoding="utf-8")
        written.append(path)
        if len(written) >= count:
            break
    return written


def _objects():
    for module_name in sorted(sys.stdlib_module_names):
        if module_name.startswith("_") or module_name in SKIP:
            continue
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                module = importlib.import_module(module_name)
        except Exception:  # platform-specific modules fail to import here; skip them
            continue
        yield module_name, module
        for attr, value in sorted(vars(module).items()):
            if attr.startswith("_") or getattr(value, "__module__", None) != module_name:
                continue
            if inspect.isclass(value) or inspect.isfunction(value):
                yield f"{module_name}.{attr}", value
            if inspect.isclass(value):
                for method, member in sorted(vars(value).items()):
                    if not method.startswith("_") and inspect.isfunction(member):
                        yield f"{module_name}.{attr}.{method}", member


def _render(obj) -> str:
    try:
        return pydoc.render_doc(obj, renderer=pydoc.plaintext)
    except Exception:  # some objects cannot be documented; they are simply left out
        return ""


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    paths = build(parser.parse_args().docs)
    print(f"{len(paths)} documents, {sum(p.stat().st_size for p in paths):,} bytes in {OUT}")
