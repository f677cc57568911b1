"""Fit the evidence scorer and the answerability model; write rag/answering/scorer.json.

Data: the SQuAD 2.0 train subset in ../shared/data/squad2 (CC BY-SA 4.0; Rajpurkar, Jia and
Liang 2018), the project's article dev set (evals/gold.jsonl) and the questions written on 13
documents of other kinds (bench/training: manuals, man pages, news, a PDF, encyclopedia pages,
how-tos; near misses marked). Splits are by article and document:

- fit:      six SQuAD articles + the article dev set + nine training documents -> the weights
- validate: two SQuAD articles + four training documents of four kinds -> every choice
  (regularization, the refusal threshold, the extra-sentence margin); figures per domain
- held out: Spectre (2015 film) and Solar energy, never read here; evals/sets/squad-heldout.jsonl
  reports on them, and the held-out eval sets of evals/suite.py on other kinds of text.

Out-of-scope questions are made by asking a question of the library with its own article's
passages removed from what is retrieved: "nothing here is about this".

The answering chain's own stages do the work (retrieve, candidate_sentences,
sentence_features), so what is fitted is what runs. Seeded; about 10 minutes on 2 cores:
    python bench/fit_scorer.py [--squad ../shared/data/squad2/train-subset.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.train_evidence import TRAINING, VALIDATION_DOCUMENTS  # noqa: E402
from evals.gold import load_gold  # noqa: E402
from evals.metrics import locate  # noqa: E402
from evals.squad import FIT, HELDOUT, VALIDATE, article_text, load_articles  # noqa: E402
from rag.answering.evidence import (  # noqa: E402
    ANSWERABILITY_FEATURES,
    LogisticModel,
    Scorer,
    answerability_row,
    candidate_sentences,
)
from rag.answering.features import FEATURES, Question, analyse, sentence_features  # noqa: E402

SEED = 13
QUESTIONS_PER_ARTICLE = 260  # enough for stable weights; all of them triples the run time
OUT_OF_SCOPE_PER_ARTICLE = 40
TARGET_FALSE_REFUSALS = 0.05


@dataclass
class Example:
    """One question's candidates: feature rows, which rows answer it, and its kind."""

    split: str
    domain: str  # "squad", "article" or "other-kinds" (bench/training)
    kind: str  # "answerable", "unanswerable" (a near miss) or "out-of-scope"
    rows: np.ndarray
    labels: np.ndarray
    candidates: list  # Candidates, then (after _rescore) Evidence best first
    question: Question
    kept_labels: np.ndarray | None = None  # labels of the rescored candidates, in their order


def main() -> int:
    """Fit, validate, write rag/answering/scorer.json, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--squad", type=Path, default=ROOT.parent / "shared/data/squad2/train-subset.json"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "rag" / "answering" / "scorer.json")
    args = parser.parse_args()
    random.seed(SEED)
    articles = load_articles(args.squad)
    assert not set(HELDOUT) & set(FIT + VALIDATE)
    with tempfile.TemporaryDirectory() as home:
        bot, names = _library(Path(home), articles)
        examples = _examples(bot, articles, names)
    sentence, c = _fit_sentence_model(examples)
    scorer = Scorer(sentence, sentence, 0.0, 0.0)
    for e in examples:
        e.candidates = _rescore(e, scorer)
    examples = [e for e in examples if e.candidates]
    answerable = _fit_answerability(examples, c)
    scorer = Scorer(sentence, answerable, 0.0, 0.0)
    threshold, margin, report = _choose(examples, scorer)
    report["sentence_C"] = c
    data = {
        "note": "Fitted by bench/fit_scorer.py (seed 13) on SQuAD 2.0 train articles "
        f"{', '.join(FIT)}, the article dev set and the training questions of bench/training "
        f"(but its validation documents); choices made on {', '.join(VALIDATE)} and "
        f"{', '.join(sorted(VALIDATION_DOCUMENTS))}; {', '.join(HELDOUT)} held out. "
        "Validation figures below.",
        "validation": report,
        "sentence": _model_json(sentence),
        "answerable": _model_json(answerable),
        "thresholds": {"min_answerable": threshold, "extra_margin": margin},
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 0


def _library(home: Path, articles: dict):
    """A real store with the fit and validation articles and the bundled article in it."""
    from ingest.pipeline import ingest
    from rag.engine import Chatbot
    from rag.settings import Settings

    docs = home / "docs"
    docs.mkdir()
    names = {}
    for title in FIT + VALIDATE:
        path = docs / f"{title}.txt"
        path.write_text(article_text(articles[title])[0], encoding="utf-8")
        names[title] = f"docs/{path.name}"
    settings = Settings(home=home / "store")
    ingest([docs, settings.seeds_dir, TRAINING / "documents"], settings, progress=True)
    return Chatbot(settings), names


def _examples(bot, articles: dict, names: dict) -> list[Example]:
    from tqdm import tqdm

    settings = bot.settings.model_copy(update={"top_k": bot.settings.top_k * 3})
    deep = type(bot)(settings, store=bot.store)
    jobs = []
    for title in FIT + VALIDATE:
        split = "fit" if title in FIT else "validate"
        text, questions = article_text(articles[title])
        sample = random.sample(questions, min(QUESTIONS_PER_ARTICLE, len(questions)))
        unanswerable = [q for q in questions if q["is_impossible"]]
        sample += [
            q for q in random.sample(unanswerable, min(80, len(unanswerable))) if q not in sample
        ]
        jobs += [(split, "squad", names[title], q) for q in sample]
        outside = random.sample(
            [q for q in questions if not q["is_impossible"]], OUT_OF_SCOPE_PER_ARTICLE
        )
        jobs += [(split, "squad", names[title], {**q, "out_of_scope": True}) for q in outside]
    jobs += _written_jobs(bot)
    seed_text = bot.store.source_texts()[_seed_name(bot)]
    for item in load_gold(ROOT / "evals" / "gold.jsonl"):
        if item.history:
            continue
        spans = [locate(e, {"seed": seed_text}) for e in item.evidence]
        jobs.append(
            (
                "fit",
                "article",
                None,
                {
                    "question": item.question,
                    "is_impossible": not item.answerable,
                    "spans": [(s.start, s.end) for s in spans if s],
                },
            )
        )
    examples = []
    for split, domain, source, q in tqdm(jobs, desc="features", unit="question"):
        examples.append(_example(bot, deep, split, domain, source, q))
    return [e for e in examples if e is not None]


def _written_jobs(bot) -> list[tuple]:
    """The questions written on other kinds of text (bench/training): documents kept for
    validation by bench/train_evidence.py are validated on here too."""
    texts = bot.store.source_texts()
    jobs = []
    for line in (TRAINING / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        source = f"documents/{item['document']}"
        spans = [locate(e, texts, source) for e in item["evidence"]]
        q = {
            "question": item["question"],
            "is_impossible": not item["answerable"],
            "spans": [(s.start, s.end) for s in spans if s],
            "kind": None if item["answerable"] or item["near_miss"] else "out-of-scope",
        }
        split = "validate" if item["document"] in VALIDATION_DOCUMENTS else "fit"
        jobs.append((split, "other-kinds", source, q))
    return jobs


def _stored_vectors(bot, found, candidates, texts) -> np.ndarray:
    """The candidates' embeddings as ingest stored them (the retrieval result carries them);
    embedded now only for a candidate the result does not hold."""
    stored = {(c.passage.document_id, c.start): c.vector for c in found.candidates}
    vectors = [stored.get((c.passage.document_id, c.start)) for c in candidates]
    missing = [t for t, v in zip(texts, vectors, strict=True) if v is None]
    fresh = iter(bot.embedder.evidence_texts(missing)) if missing else iter(())
    return np.stack([np.asarray(v, np.float32) if v is not None else next(fresh) for v in vectors])


def _seed_name(bot) -> str:
    return next(name for name in bot.store.source_texts() if name.startswith("seeds/"))


def _example(bot, deep, split: str, domain: str, source: str | None, q: dict) -> Example | None:
    vector = bot.embedder.query(q["question"])
    if q.get("out_of_scope"):
        # The library minus the question's own article: what is left is not about it.
        found = deep.retrieve(q["question"], vector)
        passages = [p for p in found.passages if p.source != source][: bot.settings.top_k]
        kind = "out-of-scope"
    else:
        found = bot.retrieve(q["question"], vector)
        passages = list(found.passages)
        kind = q.get("kind") or ("unanswerable" if q["is_impossible"] else "answerable")
    candidates = candidate_sentences(passages, found.documents)
    if not candidates:
        return None
    question = analyse(q["question"], found.question_vector, found.idf)
    texts = [" ".join(c.text.split()) for c in candidates]
    rows = sentence_features(
        question,
        texts,
        [" ".join(c.context.split()) for c in candidates],
        _stored_vectors(bot, found, candidates, texts),
        [c.rank for c in candidates],
        bot.embedder.texts,
    )
    labels = np.zeros(len(candidates), dtype=bool)
    if kind == "answerable":
        spans = q.get("spans") or [
            (a["doc_start"], a["doc_start"] + len(a["text"])) for a in q["answers"]
        ]
        doc = source or _seed_name(bot)
        for i, c in enumerate(candidates):
            labels[i] = c.passage.source == doc and any(
                min(c.end, e) - max(c.start, s) >= min(10, e - s) for s, e in spans
            )
    return Example(split, domain, kind, rows, labels, candidates, question)


def _fit_sentence_model(examples: list[Example]) -> tuple[LogisticModel, float]:
    """Pointwise logistic regression: does this sentence hold the answer? C chosen on validation."""
    fit = [e for e in examples if e.split == "fit" and e.kind == "answerable" and e.labels.any()]
    x = np.vstack([e.rows for e in fit])
    y = np.concatenate([e.labels for e in fit])
    best = None
    for c in (0.01, 0.1, 1.0, 10.0):
        model = _logistic(x, y, c)
        top1 = _top1(examples, lambda rows, m=model: m.probability(rows))
        print(f"sentence model C={c}: validation top-1 {top1:.3f}")
        if best is None or top1 > best[0]:
            best = (top1, model, c)
    return best[1], best[2]


def _top1(examples: list[Example], score) -> float:
    answerable = [e for e in examples if e.split == "validate" and e.kind == "answerable"]
    right = sum(bool(e.labels[int(np.argmax(score(e.rows)))]) for e in answerable)
    return right / len(answerable)


def _rescore(e: Example, scorer: Scorer) -> list:
    """The candidates as the answering chain sees them when it decides whether to answer:
    scored, best first, those of the wrong answer type left out (`kept_labels` follow)."""
    from rag.answering.evidence import Evidence
    from rag.answering.features import fits_answer_type

    probabilities = scorer.sentence.probability(e.rows)
    scored = [
        Evidence(
            c.passage,
            c.start,
            c.end,
            c.text,
            float(p),
            tuple(map(float, row)),
            c.paragraph_start,
            c.context_start,
        )
        for c, p, row in zip(e.candidates, probabilities, e.rows, strict=True)
    ]
    order = sorted(range(len(scored)), key=lambda i: -scored[i].score)
    kept = [i for i in order if fits_answer_type(e.question, scored[i].text)]
    e.kept_labels = e.labels[kept]
    return [scored[i] for i in kept]


def _fit_answerability(examples: list[Example], c: float) -> LogisticModel:
    fit = [e for e in examples if e.split == "fit"]
    x = np.vstack([answerability_row(e.candidates) for e in fit])
    y = np.asarray([e.kind == "answerable" for e in fit])
    return _logistic(x, y, c, ANSWERABILITY_FEATURES)


def _choose(examples: list[Example], scorer: Scorer) -> tuple[float, float, dict]:
    """The refusal threshold (false refusals <= 5% on validation) and the extra-sentence margin."""
    from sklearn.metrics import roc_auc_score

    validate = [e for e in examples if e.split == "validate"]
    score = {
        id(e): float(scorer.answerable.probability(answerability_row(e.candidates)[None])[0])
        for e in validate
    }
    answerable = sorted(score[id(e)] for e in validate if e.kind == "answerable")
    threshold = round(answerable[int(TARGET_FALSE_REFUSALS * len(answerable))] - 1e-4, 4)
    report = {"validation_questions": len(validate)}
    for domain in ("all", "squad", "other-kinds"):
        shown = [e for e in validate if domain in ("all", e.domain)]
        for kind in ("out-of-scope", "unanswerable"):
            negatives = [e for e in shown if e.kind == kind]
            if not negatives:
                continue
            pairs = [
                (e.kind == "answerable", score[id(e)])
                for e in shown
                if e.kind in ("answerable", kind)
            ]
            labels, values = zip(*pairs, strict=True)
            where = f"{domain}_vs_{kind}"
            report[f"answerability_auc_{where}"] = round(roc_auc_score(labels, values), 3)
            report[f"refused_{where}"] = round(
                sum(score[id(e)] < threshold for e in negatives) / len(negatives), 3
            )
    report["false_refusals"] = round(sum(v < threshold for v in answerable) / len(answerable), 3)
    report["answer_among_candidates"] = round(
        sum(e.labels.any() for e in validate if e.kind == "answerable")
        / max(1, sum(e.kind == "answerable" for e in validate)),
        3,
    )
    report["top1_model"] = round(_top1(examples, scorer.sentence.probability), 3)
    report["top1_cosine"] = round(_top1(examples, lambda rows: rows[:, FEATURES.index("dense")]), 3)
    margins = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
    margin = max(margins, key=lambda m: (_citation_f(validate, m), -m))
    report["extra_margin_grid"] = {str(m): round(_citation_f(validate, m), 3) for m in margins}
    report["extra_margin_f05"] = round(_citation_f(validate, margin), 3)
    return threshold, margin, report


def _citation_f(validate: list[Example], margin: float, beta: float = 0.5) -> float:
    """F0.5 of the sentences quoted with this margin against those that hold the answer.

    Precision counts twice: every quoted sentence that is not the answer costs the reader
    trust; a second part of the answer is added by the rules of select_evidence anyway.
    """
    hits = cited = wanted = 0
    for e in validate:
        if e.kind != "answerable" or not e.labels.any():
            continue
        scored = e.candidates
        chosen = [i for i, s in enumerate(scored[:3]) if s.score >= scored[0].score - margin]
        hits += sum(bool(e.kept_labels[i]) for i in chosen)
        cited += len(chosen)
        wanted += 1
    precision, recall = hits / max(cited, 1), min(hits, wanted) / max(wanted, 1)
    b2 = beta * beta
    return (1 + b2) * precision * recall / max(b2 * precision + recall, 1e-9)


def _logistic(x: np.ndarray, y: np.ndarray, c: float, names=FEATURES) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=SEED)
    model.fit((x - mean) / scale, y)
    return LogisticModel(
        tuple(names),
        mean.astype(np.float32),
        scale.astype(np.float32),
        model.coef_[0].astype(np.float32),
        float(model.intercept_[0]),
    )


def _model_json(model: LogisticModel) -> dict:
    return {
        "features": list(model.features),
        "mean": [round(float(v), 6) for v in model.mean],
        "scale": [round(float(v), 6) for v in model.scale],
        "coef": [round(float(v), 6) for v in model.coef],
        "intercept": round(model.intercept, 6),
    }


if __name__ == "__main__":
    sys.exit(main())
