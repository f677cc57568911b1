"""Run a gold file through the chatbot and judge every answer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from evals.gold import GoldFormatError, load_gold
from evals.metrics import ItemResult, compute, compute_by_mode, judge, locate
from evals.suite import EvalSet
from rag.errors import RagError

# The gate `rag eval --gold FILE` applies: metric -> ("min" | "max", bound).
DEFAULT_THRESHOLDS = {
    "answer_accuracy": ("min", 0.90),
    "citation_precision": ("min", 0.90),
    "citation_recall": ("min", 0.85),
    "citation_validity": ("min", 1.0),
    "refusal_accuracy": ("min", 0.90),
    "false_refusal_rate": ("max", 0.10),
    "mean_cited_chars": ("max", 400.0),
}


@dataclass
class EvalRun:
    """The metrics and the judged items of one eval run."""

    gold: str
    mode: str
    metrics: dict[str, float]
    results: list[ItemResult]
    by_mode: dict = field(default_factory=dict)
    name: str = ""
    role: str = ""

    def failed_thresholds(self, thresholds: dict[str, tuple[str, float]]) -> list[str]:
        """The thresholds this run does not meet, in words."""
        failed = []
        for name, (kind, bound) in thresholds.items():
            value = self.metrics[name]
            if (kind == "min" and value < bound) or (kind == "max" and value > bound):
                failed.append(
                    f"{name} = {value} is {'below' if kind == 'min' else 'above'} {bound}"
                )
        return failed


def run_eval(gold_path: Path, bot, progress: bool = True) -> EvalRun:
    """Answer every gold item in order (follow-ups with their history) and compute the metrics."""
    items = load_gold(gold_path)
    texts = bot.store.source_texts()
    if not texts:
        raise RagError("the store is empty; run `rag ingest` first")
    results = []
    for item in _progress(items, progress):
        spans = []
        for evidence in item.evidence:
            span = locate(evidence, texts, item.source)
            if span is None:
                raise GoldFormatError(
                    f"{gold_path}:{item.line}: item {item.id}: evidence not found "
                    f"in the documents: {evidence[:60]!r}"
                )
            spans.append(span)
        start = time.perf_counter()
        answer = bot.answer(item.question, item.history)
        latency = (time.perf_counter() - start) * 1000
        result = ItemResult(item, answer, spans, latency)
        result.failures = judge(result)
        results.append(result)
    return EvalRun(
        _display_path(gold_path),
        bot.settings.mode,
        compute(results),
        results,
        by_mode=compute_by_mode(results),
    )


def set_library(eval_set: EvalSet, settings):
    """Settings for a store holding the set's documents (ingested now, idempotently).

    One store per documents folder under RAG_HOME/evals: sets on the same documents share
    it, and the user's own library is never touched.
    """
    from ingest.pipeline import ingest  # noqa: PLC0415

    home = settings.home / "evals" / eval_set.documents.name
    set_settings = settings.model_copy(update={"home": home})
    ingest([eval_set.documents], set_settings, progress=False)
    return set_settings


def run_set(eval_set: EvalSet, settings, progress: bool = True) -> EvalRun:
    """Run a set's gold file on a store of its own documents."""
    from rag.engine import Chatbot  # noqa: PLC0415

    run = run_eval(eval_set.gold, Chatbot(set_library(eval_set, settings)), progress)
    return replace(run, name=eval_set.name, role=eval_set.role)


def _display_path(path: Path) -> str:
    """The gold file's path relative to the working directory when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _progress(items, enabled: bool):
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(items, desc="eval", unit="question", disable=not enabled)
