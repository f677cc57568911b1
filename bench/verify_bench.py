"""The verifier benchmark: drafts an LLM could write, right and wrong, and what verification does.

From every answerable gold item of the article sets, with the passages the chain retrieves:

- paraphrase:     the reference answer as a person wrote it, cited to the passage holding the
                  evidence (must be kept)
- negation:       the evidence sentence with its statement negated (must be removed)
- number:         the evidence sentence with a number changed (must be removed)
- entity:         the evidence sentence with a name swapped for another the document names
- wrong passage:  the reference answer cited to a retrieved passage without the evidence
- added claim:    another item's reference answer, cited to this item's passage

Verification runs exactly as in llm mode (support, facts, negation, and relevance to the
question). Seeded; writes bench/verify_bench.json and prints the table:
    python bench/verify_bench.py
"""

from __future__ import annotations

import json
import random
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.gold import load_gold  # noqa: E402
from evals.metrics import locate  # noqa: E402
from rag.answering.features import name_phrases  # noqa: E402

_AUXILIARY = re.compile(
    r"\b(is|was|are|were|has|have|had|will|can|could|would|should|does|did|do)\b(?! not)"
)
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
MUST_KEEP = ("paraphrase",)


def main() -> int:
    """Build the drafts, verify each, print and save kept/removed rates per kind."""
    from ingest.pipeline import ingest
    from rag.engine import Chatbot
    from rag.settings import Settings

    rng = random.Random(11)
    items = [
        i
        for name in ("gold.jsonl", "heldout.jsonl")
        for i in load_gold(ROOT / "evals" / name)
        if i.answerable and not i.history
    ]
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        ingest([settings.seeds_dir], settings, progress=False)
        bot = Chatbot(settings)
        document = next(iter(bot.store.source_texts().values()))
        names = sorted({" ".join(n) for n in name_phrases(document) if len(n) >= 2})
        outcomes: Counter = Counter()
        for item, other in zip(items, rng.sample(items, len(items)), strict=True):
            vector = bot.embedder.query(item.question)
            found = bot.retrieve(item.question, vector)
            scored = bot.score(found)
            for kind, draft in _drafts(item, other, found.passages, document, names, rng):
                result = bot.check_draft(draft, found, scored)
                outcomes[kind, "kept" if result.citations else "removed"] += 1
    table = _table(outcomes)
    print(table)
    (ROOT / "bench" / "verify_bench.json").write_text(
        json.dumps({f"{k}:{o}": n for (k, o), n in sorted(outcomes.items())}, indent=2) + "\n"
    )
    return 0


def _drafts(item, other, passages, document, names, rng):
    """(kind, draft) pairs for one gold item; kinds that do not apply to it are skipped."""
    span = locate(item.evidence[0], {"doc": document})
    holding = [n for n, p in enumerate(passages, 1) if p.start <= span.start < p.end]
    if not holding:
        return
    right = holding[0]
    evidence = " ".join(item.evidence[0].split()).rstrip(".")
    yield "paraphrase", f"{item.answer.rstrip('.')} [{right}]."
    negated = _AUXILIARY.sub(lambda m: f"{m.group(1)} not", evidence, count=1)
    if negated != evidence:
        yield "negation", f"{negated} [{right}]."
    number = _NUMBER.search(evidence)
    if number:
        changed = str(int(float(number.group().replace(",", ""))) + 7)
        yield (
            "number",
            f"{evidence[: number.start()]}{changed}{evidence[number.end() :]} [{right}].",
        )
    present = [n for n in names if n in evidence]
    cited_text = passages[right - 1].text
    absent = [n for n in names if not any(w in cited_text for w in n.split())]
    if present and absent:
        yield "entity", f"{evidence.replace(present[0], rng.choice(absent))} [{right}]."
    wrong = [n for n, p in enumerate(passages, 1) if not p.start <= span.start < p.end]
    if wrong:
        yield "wrong passage", f"{item.answer.rstrip('.')} [{rng.choice(wrong)}]."
    if other.evidence[0] not in passages[right - 1].text:
        yield "added claim", f"{other.answer.rstrip('.')} [{right}]."


def _table(outcomes: Counter) -> str:
    kinds = sorted({k for k, _ in outcomes}, key=lambda k: (k not in MUST_KEEP, k))
    lines = ["| draft | n | kept | removed | goal |", "|---|---:|---:|---:|---|"]
    for kind in kinds:
        kept, removed = outcomes[kind, "kept"], outcomes[kind, "removed"]
        total = kept + removed
        goal = "kept >= .90" if kind in MUST_KEEP else "removed >= .95"
        lines.append(f"| {kind} | {total} | {kept / total:.2f} | {removed / total:.2f} | {goal} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
