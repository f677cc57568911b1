"""The eval sets: which documents each asks about, what was fitted on it, and its gate.

A set is `fitted` when any weight or threshold was learned or chosen on it: it is reported,
never gated. A `heldout` set was written before fitting and never tuned on: CI gates on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

EVALS = Path(__file__).resolve().parent
ROOT = EVALS.parent

# metric -> ("min" | "max", bound); a set's gate overrides these where it says otherwise.
# Each held-out gate sits a little below what was measured on that set with the evidence
# encoder and the refit scorer (evals/reports/summary.md): it catches a regression, it does
# not claim a goal.
BASE_GATE = {
    "citation_validity": ("min", 1.0),
    "mean_cited_chars": ("max", 400.0),
}


@dataclass(frozen=True)
class EvalSet:
    """A gold file, the folder of documents its questions are about, and how it is used."""

    name: str
    gold: Path
    documents: Path
    role: Literal["fitted", "heldout"]
    about: str
    gate: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def thresholds(self) -> dict[str, tuple[str, float]]:
        """The bounds CI holds this set to (none for a fitted set)."""
        return {**BASE_GATE, **self.gate} if self.role == "heldout" else {}


SETS = {
    s.name: s
    for s in [
        EvalSet(
            "article-dev",
            EVALS / "gold.jsonl",
            ROOT / "seeds",
            "fitted",
            "the bundled news article; the evidence scorer was fitted on it",
        ),
        EvalSet(
            "article-heldout",
            EVALS / "heldout.jsonl",
            ROOT / "seeds",
            "heldout",
            "the bundled news article, questions written before any fitting",
            gate={
                "answer_accuracy": ("min", 0.65),
                "citation_precision": ("min", 0.65),
                "false_refusal_rate": ("max", 0.25),
                "refusal_accuracy": ("min", 0.80),
            },
        ),
        EvalSet(
            "followups",
            EVALS / "sets" / "followups.jsonl",
            ROOT / "seeds",
            "fitted",
            "follow-up questions (pronouns, 'what about X?', 'why?') on the article; rules of the "
            "follow-up condenser were shaped while looking at it",
        ),
        EvalSet(
            "squad-heldout",
            EVALS / "sets" / "squad-heldout.jsonl",
            EVALS / "corpora" / "squad-heldout",
            "heldout",
            "two Wikipedia articles of SQuAD 2.0 train that no fitting saw (article-disjoint)",
            gate={
                "answer_accuracy": ("min", 0.70),
                "citation_precision": ("min", 0.60),
                "false_refusal_rate": ("max", 0.10),
                "refusal_accuracy": ("min", 0.30),
                "near_miss_refusal": ("min", 0.15),
            },
        ),
        EvalSet(
            "tech",
            EVALS / "sets" / "tech.jsonl",
            EVALS / "corpora" / "tech",
            "fitted",
            "hard-wrapped technical documents from Debian's /usr/share/doc; the two-part "
            "question rule was written after looking at it",
        ),
        EvalSet(
            "pdf-manual",
            EVALS / "sets" / "pdf-manual.jsonl",
            EVALS / "corpora" / "pdf-manual",
            "heldout",
            "a 55-page PDF manual (GNU maintainers' guide), questions by someone who never read "
            "the answering code; 8 near misses",
            gate={
                "answer_accuracy": ("min", 0.45),
                "citation_precision": ("min", 0.50),
                "false_refusal_rate": ("max", 0.12),
                "refusal_accuracy": ("min", 0.60),
                "near_miss_refusal": ("min", 0.50),
            },
        ),
        EvalSet(
            "readmes",
            EVALS / "sets" / "readmes.jsonl",
            EVALS / "corpora" / "readmes",
            "heldout",
            "ten Debian READMEs and FAQs searched together; 8 near misses",
            gate={
                "answer_accuracy": ("min", 0.40),
                "citation_precision": ("min", 0.38),
                "false_refusal_rate": ("max", 0.15),
                "refusal_accuracy": ("min", 0.50),
                "near_miss_refusal": ("min", 0.50),
            },
        ),
        EvalSet(
            "longform",
            EVALS / "sets" / "longform.jsonl",
            EVALS / "corpora" / "longform",
            "heldout",
            "a 4,200-word NASA history article (Apollo 10-12); 8 near misses",
            gate={
                "answer_accuracy": ("min", 0.60),
                "citation_precision": ("min", 0.45),
                "false_refusal_rate": ("max", 0.18),
                "refusal_accuracy": ("min", 0.30),
                "near_miss_refusal": ("min", 0.20),
            },
        ),
    ]
}
