"""Load the chat page: 50 concurrent clients (separate processes), 5 questions each, while a
`rag ingest` from the command line adds documents through the page's engine.

    python bench/load.py [--clients 50] [--questions 5] [--deadline 900] [--ingest-docs 40]

Starts `rag ui` on 127.0.0.1 with a fresh data directory, measures one client alone first
(the baseline, same run, which also records each question's answer), then all clients at
once through gradio_client while `rag ingest` adds pydoc pages. Reports errors (must be 0),
answers that differ from the ones asked one by one before or after the ingest (must be 0),
latency p50/p95 and throughput, and writes bench/out/load.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTIONS = [
    "Why did Liu Jun return to China?",
    "What title was Liu Jun given at Tsinghua?",
    "Why did Chen Jing return to China?",
    "Which university did Zhang Yitang leave?",
    "What is the capital of Australia?",
    "When did Fu Tianfan join Nanjing University?",
    "What has made the US less welcoming for Chinese-born scientists?",
]
REQUEST_TIMEOUT = 300


def start_app(home: Path) -> tuple[subprocess.Popen, str, float]:
    """`rag ui` on a free port; returns the process, its URL and the seconds until it answered."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Every client comes from 127.0.0.1: the per-visitor question limit would refuse most of
    # them, and this measures capacity, not the limit.
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env["RAG_QUESTIONS_PER_MINUTE"] = "0"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - started < 300:
        try:
            urllib.request.urlopen(url, timeout=2)
            return process, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the app did not start in 300 s")


def client(url: str, offset: int, count: int, results) -> None:
    """One user: `count` questions in a row; appends (latency or None, error) per question."""
    from gradio_client import Client

    try:
        chat = Client(url, verbose=False)
    except Exception as error:  # a refused connection is an error to count, not a crash
        results.extend([(None, f"connect: {error}", "", "")] * count)
        return
    for i in range(count):
        question = QUESTIONS[(offset + i) % len(QUESTIONS)]
        started = time.perf_counter()
        try:
            job = chat.submit(question, [], "extractive", api_name="/ask")
            messages = job.result(timeout=REQUEST_TIMEOUT)[0]
            text = messages[-1]["content"][0]["text"]
            ok = "[1]" in text or "do not say" in text
            results.append(
                (time.perf_counter() - started, None if ok else f"bad: {text[:80]}", question, text)
            )
        except Exception as error:
            results.append((None, f"{type(error).__name__}: {str(error)[:120]}", question, ""))


def run(url: str, clients: int, questions: int, deadline: float) -> dict:
    """All clients at once, each a process; bounded by `deadline` seconds."""
    manager = multiprocessing.Manager()
    results = manager.list()
    processes = [
        multiprocessing.Process(target=client, args=(url, i, questions, results))
        for i in range(clients)
    ]
    started = time.perf_counter()
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=max(1.0, deadline - (time.perf_counter() - started)))
    elapsed = time.perf_counter() - started
    for p in processes:
        if p.is_alive():
            p.kill()
    done = list(results)
    latencies = sorted(t for t, e, _, _ in done if e is None)
    errors = [e for _, e, _, _ in done if e] + ["no answer before the deadline"] * (
        clients * questions - len(done)
    )
    return {
        "answers": [(q, text) for _, e, q, text in done if e is None],
        "clients": clients,
        "questions_each": questions,
        "answered": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "throughput_per_s": round(len(latencies) / elapsed, 2),
        "wall_s": round(elapsed, 1),
    }


def start_ingest(home: Path, folder: Path) -> subprocess.Popen:
    """`rag ingest FOLDER` from the command line: it goes through the page's engine."""
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "ingest", "--quiet", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def differing(load: dict, before: dict, after: dict) -> list[str]:
    """Answers under load that neither the library before the ingest nor after it gives
    (compared without their markup: a citation link names the answer's place in its chat)."""
    expected = {q: {_plain(text)} for q, text in before["answers"]}
    for q, text in after["answers"]:
        expected.setdefault(q, set()).add(_plain(text))
    return [q for q, text in load["answers"] if _plain(text) not in expected.get(q, set())]


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def main() -> None:
    """Run the baseline and the load, print and save the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=900)
    parser.add_argument("--ingest-docs", type=int, default=40)
    args = parser.parse_args()
    from bench.corpus import build

    with tempfile.TemporaryDirectory() as home:
        corpus = Path(home) / "pydoc"
        corpus.mkdir()
        for page in build(args.ingest_docs)[: args.ingest_docs]:
            (corpus / page.name).write_bytes(page.read_bytes())
        app, url, startup = start_app(Path(home) / "rag")
        try:
            baseline = run(url, 1, len(QUESTIONS), args.deadline)
            writer = start_ingest(Path(home) / "rag", corpus)
            load = run(url, args.clients, args.questions, args.deadline)
            out, err = writer.communicate(timeout=args.deadline)
            after = run(url, 1, len(QUESTIONS), args.deadline)
        finally:
            app.terminate()
            app.wait(timeout=30)
    ingest = {"exit_code": writer.returncode, "output": (out + err).strip()[-300:]}
    changed = differing(load, baseline, after)
    for run_result in (baseline, load, after):
        run_result.pop("answers")
    report = {
        "first_start_s": round(startup, 1),
        "baseline": baseline,
        "load": load,
        "ingest_during_load": ingest,
        "answers_differing_from_one_by_one": len(changed),
        "differing_examples": changed[:5],
    }
    if baseline["p50_s"] and load["p50_s"]:
        report["p50_ratio_load_vs_alone"] = round(load["p50_s"] / baseline["p50_s"], 1)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
