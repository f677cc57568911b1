"""The packaged GGUF model, served by `llama_cpp.server` in a process of its own on 127.0.0.1.

A native crash in llama.cpp (an illegal instruction on a CPU that advertises more than it
runs, a segmentation fault) then costs one answer, not the app: the request fails, the user
gets the extractive answer with a notice, and the next LLM question starts a fresh server.
"""

from __future__ import annotations

import atexit
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from rag.errors import LLMUnavailable

START_TIMEOUT = 120.0  # seconds for the server to load the model and answer /v1/models
PARENT_POLL_S = 1.0  # how often the server checks that the app that started it still runs


class ModelServer:
    """One `python -m llama_cpp.server` for one GGUF file, restarted when it has died."""

    def __init__(self, model_path: str, log_path: Path):
        self.model_path = model_path
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port = 0
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint of the running server."""
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process is not None and self.process.poll() is None

    def ensure_running(self) -> str:
        """The endpoint, starting the server first if it is not running (or has crashed)."""
        with self._lock:
            if not self.alive():
                self._start()
            return self.base_url

    def stop(self) -> None:
        """Stop the server (at exit, or when a test is done with it)."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _start(self) -> None:
        if not Path(self.model_path).exists():
            raise LLMUnavailable(f"no GGUF model at {self.model_path}")
        self.port = _free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "rag.llm.model_server",  # llama_cpp.server, ended when this process ends (see main)
            str(os.getpid()),
            "--model",
            self.model_path,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                code = self.process.returncode
                raise LLMUnavailable(
                    f"the local model server exited with code {code} (log: {self.log_path})"
                )
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise LLMUnavailable(f"the local model server did not start in {START_TIMEOUT:.0f} s")


def main(argv: list[str]) -> None:
    """Run llama_cpp.server in this process, and end it when the process that started it ends.

    The server runs in a session of its own (a Ctrl-C meant for the app does not reach it),
    and a parent stopped by a signal runs no atexit handler: without this watch, every app
    that was killed would leave a model of a few GB behind.
    """
    parent, server_args = int(argv[0]), argv[1:]

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    sys.argv = ["llama_cpp.server", *server_args]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main(sys.argv[1:])
