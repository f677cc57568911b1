"""Imports point one way: interfaces, engine, llm, answering, library, language, core."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# For each layer, the packages it must never import (every import, lazy ones included).
FORBIDDEN = {
    "rag/types.py": ("rag.", "ingest", "ui", "evals"),
    "rag/errors.py": ("rag.", "ingest", "ui", "evals"),
    "rag/settings.py": ("rag.", "ingest", "ui", "evals"),
    "rag/language": ("rag.library", "rag.answering", "rag.llm", "rag.engine", "ingest", "ui"),
    "rag/access": ("rag.library", "rag.answering", "rag.llm", "rag.engine", "ingest", "ui"),
    "rag/library": ("rag.answering", "rag.llm", "rag.engine", "ingest", "ui", "evals"),
    "rag/answering": ("rag.llm", "rag.engine", "ingest", "ui", "evals"),
    "rag/llm": ("rag.engine", "ingest", "ui", "evals"),
    "rag/engine.py": ("ui", "evals"),
    "ingest": ("rag.answering", "rag.llm", "rag.engine", "ui", "evals"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_module_imports_a_layer_above_it():
    broken = []
    for where, banned in FORBIDDEN.items():
        target = ROOT / where
        files = [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
        assert files, where
        for file in files:
            for name in _imports(file):
                if any(
                    name == b.rstrip(".") or name.startswith(b.rstrip(".") + ".") for b in banned
                ):
                    broken.append(f"{file.relative_to(ROOT)} imports {name}")
    assert broken == []


def test_rag_has_only_its_core_modules_at_the_top():
    top = sorted(p.name for p in (ROOT / "rag").iterdir() if p.suffix == ".py")
    assert top == ["__init__.py", "engine.py", "errors.py", "settings.py", "types.py"]
