"""A fresh `rag ask`, in its own process, with and without a `rag serve` of the same data
directory running; the bare interpreter's start-up is the baseline measured in the same run.

    python bench/ask_latency.py [--repeat 7]

Writes bench/ask_latency.json (medians in seconds, and ratios to the baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUESTION = "Why did Liu Jun return to China?"


def seconds(command: list[str], env: dict) -> float:
    """Wall seconds of one command in a fresh process (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def median_of(repeat: int, command: list[str], env: dict) -> float:
    return round(statistics.median(seconds(command, env) for _ in range(repeat)), 3)


def wait_until_up(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"rag serve did not start at {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ask-latency-"))
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    rag = [sys.executable, "-m", "rag.cli"]
    subprocess.run([*rag, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    results = {
        "python_start_s": median_of(args.repeat, [sys.executable, "-c", "pass"], env),
        "ask_in_process_s": median_of(args.repeat, [*rag, "ask", QUESTION], env),
    }
    port = 7000 + os.getpid() % 2000
    server = subprocess.Popen(
        [*rag, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health")
        results["ask_with_server_s"] = median_of(args.repeat, [*rag, "ask", QUESTION], env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["repeat"] = args.repeat
    results["in_process_vs_python"] = round(
        results["ask_in_process_s"] / results["python_start_s"], 1
    )
    results["with_server_vs_python"] = round(
        results["ask_with_server_s"] / results["python_start_s"], 1
    )
    results["in_process_vs_with_server"] = round(
        results["ask_in_process_s"] / results["ask_with_server_s"], 1
    )
    out = HERE / "ask_latency.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
