"""Train the evidence encoder: the packaged MiniLM fine-tuned so that a question's embedding
lies closest to the sentence that answers it; write rag/library/evidence_encoder.*.

    python bench/train_evidence.py [--epochs 2] [--batch 32]      # `make train`; ~25 min

Why a bi-encoder and not a cross-encoder: two earlier CPU attempts at a cross-encoder with a
fresh head stayed at the label prior (../shared/notes/evidence-scorer-experiments.md), and
scoring every candidate with one costs ~100x a warm answer. Fine-tuning the bi-encoder
starts from what works (cosine), keeps only what beats it on validation, and costs a question
one embedding: the sentences' embeddings are computed at ingest.

Data (article- and document-disjoint splits):
- fit: every answerable question of the six FIT SQuAD 2.0 train articles (evals/squad.py) with
  the sentence holding its answer as positive, and the training questions written here on
  other kinds of text (bench/training: manuals, man pages, news, a PDF, encyclopedia pages,
  how-tos), but for the documents kept for validation;
- negatives: in-batch, plus for each question the three sentences of its own document most
  like it (by the packaged model) that do not answer it: the hard negatives;
- validate: the two VALIDATE SQuAD articles and four training documents of other kinds.
  Top-1: the sentence of the whole document ranked first, against the packaged model's.

Only the transformer layers are trained (the word embeddings stay as packaged), and only
they are written, in fp16: ~21 MB. Seeded; the best epoch on validation is kept, and nothing
is written when no epoch beats the packaged model.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.metrics import locate  # noqa: E402
from evals.squad import FIT, VALIDATE, article_text, load_articles  # noqa: E402
from ingest.readers import read_document  # noqa: E402
from rag.language.sentences import sentence_table, states_something  # noqa: E402

SEED = 13
TRAINING = ROOT / "bench" / "training"
# One document of each of four kinds is kept for validation, never trained on.
VALIDATION_DOCUMENTS = {
    "news/bls-employment-situation-march-2023.md",
    "manpage/pipe.7.txt",
    "encyclopedic/Octopus.md",
    "howto/nodejs-writing-tests.md",
}
HARD_NEGATIVES = 3
OUT = ROOT / "rag" / "library"


@dataclass(frozen=True)
class Document:
    """A document's statement sentences, flattened to one line each."""

    name: str
    sentences: list[str]
    spans: list[tuple[int, int]]


@dataclass(frozen=True)
class Question:
    """A question, its document, and the indexes of the sentences that answer it."""

    text: str
    document: Document
    answers: frozenset[int]


def document_of(name: str, text: str) -> Document:
    """The statements of a text, as the answering chain's candidates are cut."""
    spans = [(s, e) for _, _, s, e in sentence_table(text) if states_something(text[s:e])]
    return Document(name, [" ".join(text[s:e].split()) for s, e in spans], spans)


def answering(document: Document, spans: list[tuple[int, int]]) -> frozenset[int]:
    """The sentences overlapping an answer span."""
    return frozenset(
        i
        for i, (s, e) in enumerate(document.spans)
        for a, b in spans
        if min(e, b) - max(s, a) >= min(10, b - a)
    )


def squad_questions(path: Path, titles: list[str]) -> list[Question]:
    """Every answerable question of these SQuAD articles."""
    articles, questions = load_articles(path), []
    for title in titles:
        text, qas = article_text(articles[title])
        document = document_of(title, text)
        for q in qas:
            if q["is_impossible"]:
                continue
            spans = [(a["doc_start"], a["doc_start"] + len(a["text"])) for a in q["answers"]]
            answers = answering(document, spans)
            if answers:
                questions.append(Question(q["question"].strip(), document, answers))
    return questions


def written_questions(validation: bool) -> list[Question]:
    """The answerable training questions written on other kinds of text (bench/training)."""
    documents: dict[str, tuple[Document, str]] = {}
    questions = []
    for line in (TRAINING / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if not item["answerable"] or (item["document"] in VALIDATION_DOCUMENTS) != validation:
            continue
        if item["document"] not in documents:
            text = read_document(TRAINING / "documents" / item["document"], 10**8)
            documents[item["document"]] = (document_of(item["document"], text), text)
        document, text = documents[item["document"]]
        spans = [locate(e, {"d": text}) for e in item["evidence"]]
        answers = answering(document, [(s.start, s.end) for s in spans if s])
        if answers:
            questions.append(Question(item["question"], document, answers))
    return questions


def top1(model, questions: list[Question]) -> float:
    """Share of questions whose best sentence of the whole document answers them."""
    by_document: dict[str, list[Question]] = {}
    for q in questions:
        by_document.setdefault(q.document.name, []).append(q)
    right = 0
    for qs in by_document.values():
        sentences = model.encode(qs[0].document.sentences, batch_size=64, normalize_embeddings=True)
        asked = model.encode([q.text for q in qs], batch_size=64, normalize_embeddings=True)
        best = np.argmax(asked @ sentences.T, axis=1)
        right += sum(int(b) in q.answers for b, q in zip(best, qs, strict=True))
    return round(right / max(len(questions), 1), 4)


def hard_negatives(model, questions: list[Question]) -> list[list[int]]:
    """For each question, the sentences of its document most like it that do not answer it."""
    negatives = []
    cache: dict[str, np.ndarray] = {}
    asked = model.encode([q.text for q in questions], batch_size=64, normalize_embeddings=True)
    for q, vector in zip(questions, asked, strict=True):
        if q.document.name not in cache:
            cache[q.document.name] = model.encode(
                q.document.sentences, batch_size=64, normalize_embeddings=True
            )
        order = np.argsort(-(cache[q.document.name] @ vector))
        negatives.append([int(i) for i in order if int(i) not in q.answers][:HARD_NEGATIVES])
    return negatives


def train(args) -> bool:
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.settings import Settings

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    model = SentenceTransformer(Settings().embed_model_path, device="cpu")
    model.max_seq_length = args.max_length
    fit = squad_questions(args.squad, FIT) + written_questions(validation=False)
    validate = {
        "squad": squad_questions(args.squad, VALIDATE),
        "other_kinds": written_questions(validation=True),
    }
    baseline = {name: top1(model, qs) for name, qs in validate.items()}
    print(f"{len(fit)} training questions; packaged model top-1 {baseline}", flush=True)
    negatives = hard_negatives(model, fit)
    transformer = model[0].auto_model
    for parameter in transformer.embeddings.parameters():
        parameter.requires_grad = False  # kept as packaged: only the layers are written
    trained = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * ((len(fit) + args.batch - 1) // args.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / (0.1 * steps)) * max(0.0, 1 - step / steps)
    )
    history, best = [], sum(baseline.values())
    for epoch in range(args.epochs):
        started, losses = time.perf_counter(), []
        order = list(range(len(fit)))
        random.shuffle(order)
        model.train()
        for at in range(0, len(order), args.batch):
            chosen = order[at : at + args.batch]
            questions = [fit[i].text for i in chosen]
            positives = [
                fit[i].document.sentences[random.choice(sorted(fit[i].answers))] for i in chosen
            ]
            hard = [
                fit[i].document.sentences[random.choice(negatives[i])]
                for i in chosen
                if negatives[i]
            ]
            loss = _ranking_loss(model, questions, positives + hard, args.scale)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
        model.eval()
        scores = {name: top1(model, qs) for name, qs in validate.items()}
        history.append(
            {
                "epoch": epoch + 1,
                "loss": round(float(np.mean(losses)), 4),
                "top1": scores,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(history[-1], flush=True)
        if sum(scores.values()) > best:
            # Written at once: a run stopped later keeps its best epoch so far.
            best = sum(scores.values())
            _write(args, _layers(transformer), baseline, history, len(fit), validate)
    return best > sum(baseline.values())


def _ranking_loss(model, questions: list[str], sentences: list[str], scale: float):
    """Multiple-negatives ranking: each question against every sentence of the batch (its own
    answer first in the list's order), cross-entropy on scaled cosines."""
    import torch

    def embed(texts):
        features = model.preprocess(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    scores = embed(questions) @ embed(sentences).T * scale
    return torch.nn.functional.cross_entropy(scores, torch.arange(len(questions)))


def _layers(transformer) -> dict:
    """The trained weights (all but the word embeddings), fp16, on the CPU."""
    return {
        name: tensor.detach().to("cpu").half().clone()
        for name, tensor in transformer.state_dict().items()
        if not name.startswith("embeddings.")
    }


def _write(args, layers: dict, baseline: dict, history: list, questions: int, validate) -> None:
    from safetensors.torch import save_file

    save_file(layers, str(OUT / "evidence_encoder.safetensors"))
    note = {
        "note": "Written by bench/train_evidence.py (seed 13): the packaged all-MiniLM-L6-v2 "
        "fine-tuned (transformer layers only) with a multiple-negatives ranking loss on "
        f"SQuAD 2.0 train articles {', '.join(FIT)} and the training questions of "
        "bench/training (all but the validation documents); validated on "
        f"{', '.join(VALIDATE)} and {', '.join(sorted(VALIDATION_DOCUMENTS))}.",
        "settings": {k: str(v) for k, v in vars(args).items() if k != "squad"},
        "baseline_top1": baseline,
        "history": history,
        "best_epoch": history[-1]["epoch"],
        "training_questions": questions,
        "validation_questions": {name: len(qs) for name, qs in validate.items()},
    }
    (OUT / "evidence_encoder.json").write_text(json.dumps(note, indent=2) + "\n")
    print(
        f"wrote {OUT / 'evidence_encoder.safetensors'} (epoch {history[-1]['epoch']})", flush=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--squad", type=Path, default=ROOT.parent / "shared/data/squad2/train-subset.json"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    if train(parser.parse_args()):
        return 0
    print("no epoch beat the packaged model on validation; nothing written")
    return 1


if __name__ == "__main__":
    sys.exit(main())
