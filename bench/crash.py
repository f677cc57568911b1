"""Kill `rag ingest` with SIGKILL at random moments, re-ingest, and check nothing is lost.

    python bench/crash.py [--runs 30] [--seed 1]

Each run: a fresh data directory, a corpus of variants of the seed article, one or more
SIGKILLs at random times during the ingest, then a complete ingest. The store must then equal
a clean reference ingest: same passage ids, same stored texts, exact offsets, no duplicates,
and the keyword index built from it agreeing with it. Used by tests/test_crash.py too.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "reverse-brain-drain-chinese-researchers-return-from-us.txt"


def make_corpus(folder: Path, variants: int = 6) -> Path:
    """The seed article and variants of it with their paragraphs in other orders."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = SEED.read_text(encoding="utf-8").splitlines()
    (folder / "article.txt").write_text("\n".join(lines), encoding="utf-8")
    for k in range(variants):
        shuffled = lines[:]
        random.Random(k).shuffle(shuffled)
        (folder / f"variant-{k}.txt").write_text("\n".join(shuffled), encoding="utf-8")
    return folder


def run_ingest(home: Path, corpus: Path, kill_after: float | None = None) -> tuple[int, str]:
    """`rag ingest` in a new process; SIGKILLed after `kill_after` seconds when given."""
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "ingest", str(corpus)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill_after is None:
        out, err = process.communicate(timeout=600)
        return process.returncode, out + err
    try:
        out, err = process.communicate(timeout=kill_after)
        return process.returncode, out + err  # finished before the kill
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate()
        return -9, err.strip().rsplit("\r", 1)[-1][:80]


def snapshot(home: Path):
    """(passage ids, stored texts, problems found) of the store under `home`."""
    from rag.answering.retrieve import HybridRetriever
    from rag.library.store import PassageStore
    from rag.settings import Settings

    settings = Settings(home=home)
    store = PassageStore(settings)
    passages = store.all_passages()
    texts = store.source_texts()
    problems = []
    ids = [p.id for p in passages]
    if len(ids) != len(set(ids)):
        problems.append(f"{len(ids) - len(set(ids))} duplicate ids")
    for p in passages:
        if texts.get(p.source, "")[p.start : p.end] != p.text:
            problems.append(f"passage {p.id} does not match its stored text")
    retriever = HybridRetriever(store, settings)
    retriever.refresh()
    if retriever.passage_ids() != set(ids) or store.count() != len(ids):
        problems.append("keyword index and store disagree")
    return set(ids), texts, problems


def trial(work: Path, corpus: Path, reference, kills: list[float]) -> list[str]:
    """One crash trial; returns what went wrong (nothing, when the store recovered)."""
    home = work / "home"
    for delay in kills:
        run_ingest(home, corpus, kill_after=delay)
    code, output = run_ingest(home, corpus)
    if code != 0:
        return [f"re-ingest failed: {output[-300:]}"]
    ids, texts, problems = snapshot(home)
    ref_ids, ref_texts, _ = reference
    if ids != ref_ids:
        problems.append(f"{len(ref_ids - ids)} passages missing, {len(ids - ref_ids)} extra")
    if texts != ref_texts:
        problems.append("stored texts differ from the reference")
    return problems


def main() -> None:
    """Run the trials and print a summary line per trial and in total."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp) / "corpus")
        started = time.perf_counter()
        assert run_ingest(Path(tmp) / "ref", corpus)[0] == 0
        full = time.perf_counter() - started
        reference = snapshot(Path(tmp) / "ref")
        failures = 0
        for run in range(args.runs):
            kills = sorted(rng.uniform(0.5, full) for _ in range(rng.randint(1, 3)))
            problems = trial(Path(tmp) / f"run{run}", corpus, reference, kills)
            failures += bool(problems)
            print(
                f"run {run}: killed at {[round(k, 1) for k in kills]} s -> "
                f"{'; '.join(problems) or 'recovered'}",
                flush=True,
            )
        print(
            f"{args.runs - failures}/{args.runs} runs recovered exactly "
            f"({len(reference[0])} passages; a full ingest takes {full:.1f} s)"
        )


if __name__ == "__main__":
    main()
