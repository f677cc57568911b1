"""SQuAD 2.0 articles as documents and gold items, and the article-disjoint splits of them.

The train subset (../shared/data/squad2, CC BY-SA 4.0; Rajpurkar, Jia and Liang 2018) is
split by article: FIT trains the evidence scorer, VALIDATE chooses its settings, HELDOUT is
never seen by fitting and becomes the squad-heldout eval set:

    python -m evals.squad [--squad PATH] [--per-article 90]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.language.sentences import sentence_spans

FIT = [
    "Beyoncé",
    "Frédéric_Chopin",
    "Sino-Tibetan_relations_during_the_Ming_dynasty",
    "IPod",
    "The_Legend_of_Zelda:_Twilight_Princess",
    "2008_Sichuan_earthquake",
]
VALIDATE = ["New_York_City", "To_Kill_a_Mockingbird"]
HELDOUT = ["Spectre_(2015_film)", "Solar_energy"]
EVALS = Path(__file__).resolve().parent
DEFAULT_SQUAD = EVALS.parent.parent / "shared" / "data" / "squad2" / "train-subset.json"
# Questions about none of the held-out articles: "nothing here is about this".
OUT_OF_SCOPE = [
    "What is the boiling point of liquid nitrogen?",
    "Who won the 1998 FIFA World Cup?",
    "How many moons does Neptune have?",
    "What is the capital of Mongolia?",
    "Which enzyme breaks down lactose?",
    "Who wrote the novel Middlemarch?",
    "How do you bake sourdough bread?",
    "What year was the Magna Carta sealed?",
    "Which river flows through Budapest?",
    "What does a mortgage broker do?",
]


def load_articles(path: Path) -> dict[str, dict]:
    """Title -> the SQuAD article."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {a["title"]: a for a in data["data"]}


def article_text(article: dict) -> tuple[str, list[dict]]:
    """The article as one document (paragraphs between blank lines) and its questions,
    each answer located in the document (`doc_start`)."""
    parts, questions, at = [], [], 0
    for paragraph in article["paragraphs"]:
        context = paragraph["context"]
        for qa in paragraph["qas"]:
            answers = [{**a, "doc_start": at + a["answer_start"]} for a in qa["answers"]]
            questions.append({**qa, "answers": answers})
        parts.append(context)
        at += len(context) + 2
    return "\n\n".join(parts), questions


def gold_items(title: str, text: str, questions: list[dict], count: int, rng) -> list[dict]:
    """Gold items for sampled questions: answers as alternatives, their sentences as evidence."""
    spans = sentence_spans(text)
    name = f"{title}.txt"
    answerable = [q for q in questions if not q["is_impossible"]]
    unanswerable = [q for q in questions if q["is_impossible"]]
    picked = rng.sample(answerable, min(count, len(answerable)))
    picked += rng.sample(unanswerable, min(count // 2, len(unanswerable)))
    items = []
    for q in picked:
        item = {"id": f"squad-{q['id']}", "question": q["question"].strip(), "source": name}
        if q["is_impossible"]:
            items.append({**item, "answerable": False, "near_miss": True})
            continue
        evidence = sorted(
            {text[s:e] for a in q["answers"] for s, e in spans if s <= a["doc_start"] < e}
        )
        answers = sorted({a["text"].strip() for a in q["answers"]})
        items.append(
            {
                **item,
                "answer": answers[0],
                "must_include": [answers],
                "evidence": evidence,
                "answerable": True,
            }
        )
    return items


def main() -> None:
    """Write the held-out articles as documents and their questions as a gold file."""
    parser = argparse.ArgumentParser(description="Convert the held-out SQuAD articles.")
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    parser.add_argument("--per-article", type=int, default=90)
    args = parser.parse_args()
    rng = random.Random(7)
    articles = load_articles(args.squad)
    corpus = EVALS / "corpora" / "squad-heldout"
    corpus.mkdir(parents=True, exist_ok=True)
    items = []
    for title in HELDOUT:
        text, questions = article_text(articles[title])
        (corpus / f"{title}.txt").write_text(text + "\n", encoding="utf-8")
        items += gold_items(title, text, questions, args.per_article, rng)
    items += [
        {"id": f"squad-oos-{n}", "question": q, "answerable": False}
        for n, q in enumerate(OUT_OF_SCOPE, start=1)
    ]
    out = EVALS / "sets" / "squad-heldout.jsonl"
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    print(f"wrote {len(items)} items to {out} and {len(HELDOUT)} documents to {corpus}")


if __name__ == "__main__":
    main()
