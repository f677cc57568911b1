"""A fresh `rag ask`, in its own process, with and without a `rag serve` of the same data
directory running; the bare interpreter's start-up is the baseline measured in the same run.

    python bench/ask_latency.py [--repeat 7]

Writes bench/out/ask_latency.json (medians in seconds, and ratios to the baseline).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.servers import free_port, running  # noqa: E402 - the tests' server harness

QUESTION = "Why did Liu Jun return to China?"


def seconds(command: list[str], env: dict) -> float:
    """Wall seconds of one command in a fresh process (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def median_of(repeat: int, command: list[str], env: dict) -> float:
    return round(statistics.median(seconds(command, env) for _ in range(repeat)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ask-latency-"))
    env = {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    rag = [sys.executable, "-m", "ui.cli"]
    subprocess.run([*rag, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    results = {
        "python_start_s": median_of(args.repeat, [sys.executable, "-c", "pass"], env),
        "ask_in_process_s": median_of(args.repeat, [*rag, "ask", QUESTION], env),
    }
    port = free_port()
    serve = [*rag, "serve", "--port", str(port)]
    with running(serve, f"http://127.0.0.1:{port}/health", home / "serve.log", env=env):
        results["ask_with_server_s"] = median_of(args.repeat, [*rag, "ask", QUESTION], env)
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
    out = HERE / "out" / "ask_latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
