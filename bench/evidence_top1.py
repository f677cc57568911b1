"""Top-1 sentence accuracy per eval set: which scorer ranks a gold evidence sentence first
among the candidates the chain retrieves.

    python bench/evidence_top1.py [--before REF]     # writes bench/out/evidence_top1.json

For every answerable item, one retrieval; its candidate sentences are then ranked four ways:
- cosine, packaged: the packaged MiniLM's cosine of question and sentence;
- cosine, trained: the evidence encoder's (bench/train_evidence.py);
- model before: the logistic scorer of git revision REF (default: the last release before the
  evidence encoder) over features computed with the packaged model, as it was fitted;
- model now: rag/answering/scorer.json over features with the evidence encoder (what runs).
The "answer among candidates" column bounds them all. Only set totals are printed: held-out
sets are not read item by item.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.gold import load_gold  # noqa: E402
from evals.metrics import hits, locate  # noqa: E402
from evals.runner import set_library  # noqa: E402
from evals.suite import SETS  # noqa: E402
from rag.answering.evidence import LogisticModel, load_scorer  # noqa: E402
from rag.answering.features import analyse, sentence_features  # noqa: E402
from rag.settings import Settings  # noqa: E402

BEFORE = "c8a819a"  # the last commit before this round's changes to the answering chain


def _old_sentence_model(revision: str) -> LogisticModel:
    text = subprocess.run(
        ["git", "show", f"{revision}:rag/scorer.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return LogisticModel.from_dict(json.loads(text)["sentence"])


def _rows(bot, found, candidates, vector, sentence_vectors) -> np.ndarray:
    question = analyse(found.question, vector, found.idf)
    texts = [" ".join(c.text.split()) for c in candidates]
    contexts = [" ".join(c.context.split()) for c in candidates]
    ranks = [c.rank for c in candidates]
    return sentence_features(question, texts, contexts, sentence_vectors, ranks, bot.embedder.texts)


def measure(eval_set, settings: Settings, old: LogisticModel) -> dict:
    from rag.engine import Chatbot

    bot = Chatbot(set_library(eval_set, settings))
    texts = bot.store.source_texts()
    now = load_scorer()
    right = {"cosine_packaged": 0, "cosine_trained": 0, "model_before": 0, "model_now": 0}
    answerable = among = 0
    for item in load_gold(eval_set.gold):
        if not item.answerable or item.history:
            continue
        spans = [s for s in (locate(e, texts, item.source) for e in item.evidence) if s]
        packaged_q = bot.embedder.query(item.question)
        found = bot.retrieve(item.question, packaged_q)
        candidates = list(found.candidates)
        answerable += 1
        if not candidates:
            continue
        good = [any(hits(c.passage.source, c.start, c.end, s) for s in spans) for c in candidates]
        among += any(good)
        flat = [" ".join(c.text.split()) for c in candidates]
        packaged = bot.embedder.texts(flat)
        trained = np.stack([np.asarray(c.vector, np.float32) for c in candidates])
        scores = {
            "cosine_packaged": packaged @ packaged_q,
            "cosine_trained": trained @ found.question_vector,
            "model_before": old.probability(_rows(bot, found, candidates, packaged_q, packaged)),
            "model_now": now.sentence.probability(
                _rows(bot, found, candidates, found.question_vector, trained)
            ),
        }
        for name, values in scores.items():
            right[name] += good[int(np.argmax(values))]
    return {
        "role": eval_set.role,
        "answerable": answerable,
        "answer_among_candidates": round(among / max(answerable, 1), 3),
        **{name: round(count / max(answerable, 1), 3) for name, count in right.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--set", action="append", dest="sets", default=None)
    parser.add_argument("--home", type=Path, default=None, help="reuse `rag eval`'s stores")
    args = parser.parse_args()
    old = _old_sentence_model(args.before)
    results = {}
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=args.home or Path(home))
        for name in args.sets or SETS:
            results[name] = measure(SETS[name], settings, old)
            print(name, results[name], flush=True)
    out = ROOT / "bench" / "out" / "evidence_top1.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
