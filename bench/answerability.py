"""How well the answerability score separates answerable from unanswerable questions, per set
and per kind of unanswerable question (near misses, out of scope).

For every item of every eval set: the chain's own stages (condense, retrieve, score) and its
one answerability decision (the answer-type filter, then the fitted model); then ROC AUC of
answerable against near misses and against out-of-scope questions, and the accuracy of the
decision at the fitted threshold. Writes bench/out/answerability.json and prints a table:
    python bench/answerability.py [--home DIR]
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
    from rag.answering.evidence import answerability, answering_evidence
    from rag.answering.features import fits_answer_type
    from rag.engine import Chatbot
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".rag"))
    args = parser.parse_args()
    rows = {}
    for eval_set in SETS.values():
        bot = Chatbot(set_library(eval_set, Settings(home=args.home)))
        kinds, scores, answered = [], [], []
        for item in load_gold(eval_set.gold):
            question = condense(item.question, item.history)
            found = bot.retrieve(question, bot.embedder.query(question))
            scored = bot.score(found)
            analysed = bot.analyse(found)
            fitting = [e for e in scored if fits_answer_type(analysed, e.text)]
            kinds.append(
                "answerable" if item.answerable else "near" if item.near_miss else "outside"
            )
            scores.append(answerability(fitting, bot.scorer))
            answered.append(bool(answering_evidence(analysed, scored, bot.scorer, None)))
        right = sum(a == (k == "answerable") for a, k in zip(answered, kinds, strict=True))
        row = {
            "role": eval_set.role,
            "answerable": kinds.count("answerable"),
            "near_misses": kinds.count("near"),
            "out_of_scope": kinds.count("outside"),
            "accuracy_at_threshold": round(right / len(kinds), 3),
            "threshold": bot.scorer.min_answerable,
        }
        for kind in ("near", "outside"):
            pairs = [(k == "answerable", s) for k, s in zip(kinds, scores, strict=True)]
            pairs = [p for p, k in zip(pairs, kinds, strict=True) if k in ("answerable", kind)]
            if any(not a for a, _ in pairs) and any(a for a, _ in pairs):
                labels, values = zip(*pairs, strict=True)
                row[f"roc_auc_vs_{kind}"] = round(roc_auc_score(labels, values), 3)
        rows[eval_set.name] = row
    out = ROOT / "bench" / "out" / "answerability.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(
        "| set | role | answerable / near misses / out of scope | AUC vs near misses | "
        "AUC vs out of scope | accuracy at threshold |"
    )
    print("|---|---|---|---:|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['role']} | {r['answerable']} / {r['near_misses']} / "
            f"{r['out_of_scope']} | {r.get('roc_auc_vs_near', '-')} | "
            f"{r.get('roc_auc_vs_outside', '-')} | {r['accuracy_at_threshold']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
