"""How well the answerability score separates answerable from unanswerable questions, per set.

For every item of every eval set: the chain's own stages (condense, retrieve, score) and the
fitted answerability model; then ROC AUC (answerable vs not) and the accuracy of the decision
at the fitted threshold. Writes bench/answerability.json and prints a table:
    python bench/answerability.py [--home .rag]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Score every item of every set; print and save the table."""
    from sklearn.metrics import roc_auc_score

    from evals.gold import load_gold
    from evals.runner import set_library
    from evals.suite import SETS
    from rag.answering.condense import condense
    from rag.answering.evidence import answerability
    from rag.engine import Chatbot
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".rag"))
    args = parser.parse_args()
    rows = {}
    for eval_set in SETS.values():
        bot = Chatbot(set_library(eval_set, Settings(home=args.home)))
        labels, scores = [], []
        for item in load_gold(eval_set.gold):
            question = condense(item.question, item.history)
            vector = bot.embedder.query(question)
            scored = bot.score(bot.retrieve(question, vector))
            labels.append(item.answerable)
            scores.append(answerability(scored, bot.scorer))
        threshold = bot.scorer.min_answerable
        right = sum((s >= threshold) == a for s, a in zip(scores, labels, strict=True))
        rows[eval_set.name] = {
            "role": eval_set.role,
            "answerable": sum(labels),
            "unanswerable": len(labels) - sum(labels),
            "roc_auc": round(roc_auc_score(labels, scores), 3),
            "accuracy_at_threshold": round(right / len(labels), 3),
            "threshold": threshold,
        }
    (ROOT / "bench" / "answerability.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("| set | role | answerable / unanswerable | ROC AUC | accuracy at threshold |")
    print("|---|---|---|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['role']} | {r['answerable']} / {r['unanswerable']} | "
            f"{r['roc_auc']} | {r['accuracy_at_threshold']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
