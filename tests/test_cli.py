"""The `rag` command as a user runs it, in a fresh process each time."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import SEED, rag

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-home")


def test_ask_on_an_empty_store_ingests_the_seeds_first_and_answers_in_json(home):
    result = rag("ask", "--json", "Why did Liu Jun return to China?", home=home)
    assert result.returncode == 0, result.stderr
    assert "store is empty: ingesting" in result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {
        "question",
        "text",
        "refused",
        "mode",
        "citations",
        "passages",
        "timings",
    }
    assert answer["refused"] is False and answer["mode"] == "extractive"
    assert "patriot" in answer["text"]
    source = SEED.read_text(encoding="utf-8")
    for c in answer["citations"]:
        assert set(c) == {"n", "passage_id", "source", "document_id", "start", "end", "quote"}
        assert c["quote"] in source
    assert {"id", "source", "document_id", "start", "end", "score"} == set(answer["passages"][0])


def test_second_ingest_of_unchanged_seeds_embeds_nothing(home):
    rag("ingest", "--quiet", home=home)
    result = rag("ingest", "--quiet", home=home)
    assert result.returncode == 0, result.stderr
    assert "0 passages embedded" in result.stdout


def test_an_ordinary_ask_prints_the_answer_and_nothing_else(home):
    rag("ingest", "--quiet", home=home)
    result = rag("ask", "Why did Liu Jun return to China?", home=home)
    assert result.returncode == 0 and "patriot" in result.stdout
    assert result.stderr == ""  # no "Loading weights" bar, no library warnings


def test_ask_answers_here_when_the_announced_server_is_gone(home, tmp_path):
    from tests.servers import free_port

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(finished.stdout)
    url = f"http://127.0.0.1:{free_port()}"
    (home / "server.json").write_text(json.dumps({"url": url, "pid": dead_pid}))
    try:
        result = rag("ask", "--json", "Why did Liu Jun return to China?", home=home)
        assert result.returncode == 0 and "patriot" in json.loads(result.stdout)["text"]
        told = rag(
            "ask", "Why did Liu Jun return to China?", home=home, env={"RAG_SERVER_URL": url}
        )
        assert told.returncode == 0 and "patriot" in told.stdout
        assert told.stderr == f"note: no rag server answers at {url}; answering here.\n"
    finally:
        (home / "server.json").unlink()


@pytest.mark.parametrize("question", ["", "   ", "x" * 100_000])
def test_bad_questions_exit_non_zero_with_one_line(home, question):
    result = rag("ask", question, home=home)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_binary_file_in_the_ingest_folder_is_named_and_skipped(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Lisbon trams are yellow.")
    (folder / "photo.txt").write_bytes(b"\x00\xffJFIF\x00")
    result = rag("ingest", "--quiet", str(folder), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "photo.txt: binary" in result.stdout
    assert "1 files" in result.stdout


def test_chat_resolves_a_follow_up_in_the_terminal(home):
    question = "Why did Liu Jun return to China?\nHow old was he then?\n\n"
    result = rag("chat", home=home, stdin=question)
    assert result.returncode == 0, result.stderr
    assert "(understood as: How old was Liu Jun then?)" in result.stdout
    assert "age of 60" in result.stdout


def test_docs_lists_scopes_and_removes_same_named_documents(tmp_path):
    home = tmp_path / "home"
    first = tmp_path / "a" / "docs" / "history.txt"
    second = tmp_path / "b" / "docs" / "history.txt"
    for path, text in [
        (first, "The castle of Brenmoor was built in 1312 by masons from Flanders."),
        (second, "The lighthouse of Carrow was finished in 1867 after a great storm."),
    ]:
        path.parent.mkdir(parents=True)
        path.write_text(text)
    result = rag("ingest", "--quiet", str(first.parent), str(second.parent), home=home)
    assert result.returncode == 0, result.stderr
    listed = json.loads(rag("docs", "list", "--json", home=home).stdout)
    assert [(d["name"], d["path"], d["passages"]) for d in listed] == [
        ("docs/history.txt", str(first), 1),
        ("docs/history.txt", str(second), 1),
    ]
    table = rag("docs", "list", home=home).stdout.splitlines()
    assert table[0].split()[:3] == ["name", "passages", "characters"] and len(table) == 3

    question = "When was the lighthouse of Carrow finished?"
    scoped = rag("ask", "--json", "--doc", str(first), question, home=home)
    assert scoped.returncode == 0, scoped.stderr
    assert json.loads(scoped.stdout)["refused"] is True
    answer = json.loads(rag("ask", "--json", "--doc", str(second), question, home=home).stdout)
    assert answer["citations"][0]["document_id"] == listed[1]["id"]

    ambiguous = rag("docs", "remove", "docs/history.txt", home=home)
    assert ambiguous.returncode == 2 and "names 2 documents; give its path" in ambiguous.stderr
    unknown = rag("docs", "remove", str(second), "nothing.txt", home=home)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
    assert len(json.loads(rag("docs", "list", "--json", home=home).stdout)) == 2

    removed = rag("docs", "remove", str(second), home=home)
    assert removed.returncode == 0, removed.stderr
    assert f"removed docs/history.txt (1 passages) from {second}" in removed.stdout
    left = json.loads(rag("docs", "list", "--json", home=home).stdout)
    assert [d["path"] for d in left] == [str(first)]
    assert json.loads(rag("ask", "--json", question, home=home).stdout)["refused"] is True


NOT_SOURCES = (".git", ".venv", ".rag", "build", "*.egg-info", "artifacts", "__pycache__")


def test_an_installed_wheel_answers_from_any_folder_with_its_own_seeds(tmp_path):
    # Built from a copy of the sources, so no build/ folder left by an earlier build can help.
    source = tmp_path / "source"
    shutil.copytree(SEED.parent.parent, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "-w",
        str(wheels),
        str(source),
    ]
    assert subprocess.run(build, capture_output=True, timeout=600).returncode == 0
    (wheel,) = wheels.glob("*.whl")
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-t", str(target)]
    assert subprocess.run([*install, str(wheel)], capture_output=True, timeout=600).returncode == 0
    installed = {"PYTHONPATH": str(target)}
    where, home = tmp_path / "elsewhere", tmp_path / "home"
    where.mkdir()
    probe = [sys.executable, "-c", "import rag; print(rag.__file__)"]
    env = {**os.environ, **installed}
    imported = subprocess.run(probe, capture_output=True, text=True, env=env, cwd=where).stdout
    assert imported.strip() == str(target / "rag" / "__init__.py")
    question = "Why did Liu Jun return to China?"
    result = rag("ask", "--json", question, home=home, env=installed, cwd=where)
    assert result.returncode == 0, result.stderr
    assert "patriot" in json.loads(result.stdout)["text"]
    listed = rag("docs", "list", "--json", home=home, env=installed, cwd=where)
    (seed,) = json.loads(listed.stdout)
    assert seed["path"] == str(target / "seeds" / SEED.name)


@pytest.mark.parametrize("command, setting", [("serve", "RAG_API_PORT"), ("ui", "RAG_UI_PORT")])
def test_a_busy_port_is_one_line_naming_the_flag_and_the_setting(tmp_path, command, setting):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = rag(command, "--port", str(port), home=tmp_path / "home", timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        f"choose another port with --port or {setting}"
    ]


HEAVY = ("torch", "chromadb", "sentence_transformers", "llama_index.core", "gradio")


def test_help_lists_every_command_without_importing_heavy_modules():
    result = subprocess.run(
        [sys.executable, "-m", "ui.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("{", 1)[1].split("}", 1)[0].split(",")
    assert sorted(listed) == sorted(
        ["ingest", "ask", "chat", "docs", "serve", "ui", "users", "eval"]
    )
    probe = (
        f"import sys, ui.cli; ui.cli._parser(); print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_eval_runs_any_gold_file_on_any_documents_and_gates(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.md").write_text(
        "# Ferries\n\nThe Lisbon harbour ferry carries 9,000 commuters a day.\n\n"
        "It was painted orange in 2019 to mark its centenary.\n"
    )
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join(
            json.dumps(item)
            for item in [
                {
                    "id": "a",
                    "question": "How many commuters does the Lisbon harbour ferry carry?",
                    "answer": "9,000 a day",
                    "must_include": [["9,000"]],
                    "evidence": ["The Lisbon harbour ferry carries 9,000 commuters a day."],
                    "answerable": True,
                    "source": "ferry.md",
                },
                {"id": "b", "question": "What is the capital of Australia?", "answerable": False},
            ]
        )
        + "\n"
    )
    home = tmp_path / "home"
    assert rag("ingest", "--quiet", str(folder), home=home).returncode == 0
    reports = tmp_path / "reports"
    result = rag("eval", "--quiet", "--gold", str(gold), "--report", str(reports), home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((reports / "report.json").read_text())
    for key in (
        "answer_accuracy",
        "citation_precision",
        "citation_recall",
        "citation_validity",
        "refusal_accuracy",
        "false_refusal_rate",
        "retrieval_hit_at_k",
        "mrr",
        "mean_cited_chars",
        "latency_p50_ms",
        "latency_p95_ms",
        "items",
    ):
        assert key in data
    assert data["answer_accuracy"] == 1.0 and data["refusal_accuracy"] == 1.0
    assert (reports / "report.md").read_text().startswith("# Eval report")
    assert (reports / "report.png").read_bytes()[:4] == b"\x89PNG"
    gated = rag("eval", "--quiet", "--gold", str(gold), "--max-mean-cited-chars", "5", home=home)
    assert gated.returncode == 1 and "FAIL: mean_cited_chars" in gated.stderr


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (
            '{"id": "flat", "question": "Why?", "must_include": ["x"], "evidence": ["Lisbon"]}',
            "item flat: must_include.0",
        ),
        (
            '{"id": "gone", "question": "Why?", "must_include": [["x"]], "evidence": ["Porto"]}',
            "item gone: evidence not found",
        ),
    ],
)
def test_eval_of_a_malformed_gold_file_exits_2_with_one_line(tmp_path, line, complaint):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "trams.txt").write_text("Lisbon trams are yellow.")
    home = tmp_path / "home"
    assert rag("ingest", "--quiet", str(folder), home=home).returncode == 0
    gold = tmp_path / "gold.jsonl"
    gold.write_text(line + "\n")
    result = rag("eval", "--quiet", "--gold", str(gold), home=home)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: {gold}:1: ") and complaint in lines[-1]
    assert "Traceback" not in result.stderr
