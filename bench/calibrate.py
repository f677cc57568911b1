"""Calibrate the evidence weights and thresholds on a gold file by grid search.

Run on the development gold set only (evals/gold.jsonl); evals/heldout.jsonl is for measuring.
    python bench/calibrate.py [--gold evals/gold.jsonl]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from evals.gold import load_gold
from evals.metrics import ItemResult, compute, locate
from rag.answer import REFUSAL, Chatbot
from rag.condense import condense
from rag.evidence import Weights, support
from rag.extractive import compose, select_evidence
from rag.settings import Settings
from rag.types import Answer

GRID = {
    "dense": [0.2, 0.3, 0.4],
    "focus": [0.2, 0.3, 0.4],
    "names": [0.45, 0.55, 0.65],
    "off_topic": [0.4],
    "reason_bonus": [0.0, 0.05],
    "crowd": [0.03],
    "definition_bonus": [0.1, 0.2],
    "min_support": [0.6, 0.65, 0.7, 0.75],
    "margin": [0.0, 0.01, 0.02],
    "continuation": [0.5],
}


def main() -> None:
    """Print the best settings found and their metrics."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--gold", type=Path, default=Path("evals/gold.jsonl"))
    parser.add_argument("--verbose", action="store_true", help="print every grid point")
    args = parser.parse_args()
    bot = Chatbot(Settings())
    texts = bot.store.source_texts()
    prepared = []
    for item in load_gold(args.gold):
        standalone = condense(item.question, item.history)
        vector = bot.embedder.query(standalone)
        passages = bot.retriever.retrieve(standalone, vector)
        scored = bot.score(standalone, vector, passages)
        spans = [locate(e, texts, item.source) for e in item.evidence]
        prepared.append((item, standalone, passages, scored, spans))
    best = None
    keys = list(GRID)
    for values in itertools.product(*GRID.values()):
        params = dict(zip(keys, values, strict=True))
        metrics = evaluate(prepared, params)
        # Precision counts twice: a wrong citation misleads, a missing one only omits.
        objective = (
            metrics["answer_accuracy"]
            + 2 * metrics["citation_precision"]
            + metrics["citation_recall"]
            + metrics["refusal_accuracy"]
            - metrics["false_refusal_rate"]
        )
        if best is None or objective > best[0]:
            best = (objective, params, metrics)
        if args.verbose:
            print(round(objective, 4), params, {k: metrics[k] for k in list(metrics)[:6]})
    print(best)


def evaluate(prepared, params) -> dict:
    """Metrics of the extractive answers the given parameters would give."""
    weights = Weights(
        **{
            k: params[k]
            for k in (
                "dense",
                "focus",
                "names",
                "off_topic",
                "reason_bonus",
                "crowd",
                "definition_bonus",
            )
        }
    )
    results = []
    for item, standalone, passages, scored, spans in prepared:
        rescored = sorted(
            (replace(e, score=support(e, weights)) for e in scored), key=lambda e: -e.score
        )
        chosen = select_evidence(
            standalone, rescored, params["min_support"], 3, params["margin"], params["continuation"]
        )
        if chosen:
            text, citations = compose(chosen)
            answer = Answer(item.question, text, citations, passages=tuple(passages))
        else:
            answer = Answer(item.question, REFUSAL, refused=True, passages=tuple(passages))
        results.append(ItemResult(item, answer, spans, 0.0))
    return compute(results)


if __name__ == "__main__":
    main()
