"""`rag serve` in its own process, used through the official `openai` client and by `rag ask`."""

import json
import os
import subprocess
import sys

import pytest

from rag.engine import REFUSAL
from tests.conftest import SEED
from tests.servers import free_port, running

pytestmark = pytest.mark.integration
KEY = "sk-test-key-for-rag-serve"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("api-home")


@pytest.fixture(scope="module")
def api_url(home):
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(home), "RAG_API_KEY": KEY, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(command, url + "/health", home / "serve.log", env=env):
        yield url


@pytest.fixture
def client(api_url):
    from openai import OpenAI

    return OpenAI(base_url=api_url + "/v1", api_key=KEY, max_retries=0, timeout=120)


def ask(client, *turns: str, **options):
    messages = []
    for i, turn in enumerate(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": turn})
    return client.chat.completions.create(model="rag-extractive", messages=messages, **options)


def test_models_name_one_model_per_mode(client):
    from rag.llm.backends import llm_available
    from rag.settings import Settings

    names = [m.id for m in client.models.list().data]
    assert (
        names == ["rag-extractive", "rag-llm"] if llm_available(Settings()) else ["rag-extractive"]
    )


def test_a_completion_carries_markers_sources_and_structured_citations(client):
    completion = ask(client, "Why did Liu Jun return to China?")
    content = completion.choices[0].message.content
    answer, sources = content.split("\n\nSources:\n")
    assert "patriot" in answer and "[1]" in answer
    extra = completion.model_extra
    assert extra["refused"] is False and extra["citations"]
    seed = SEED.read_text(encoding="utf-8")
    for citation, line in zip(extra["citations"], sources.splitlines(), strict=True):
        assert seed[citation["start"] : citation["end"]] == citation["quote"]
        assert line.startswith(f"[{citation['n']}] {citation['document']}, characters ")


def test_a_streamed_completion_says_the_same_and_ends_with_the_citations(client):
    whole = ask(client, "Why did Liu Jun return to China?")
    chunks = list(ask(client, "Why did Liu Jun return to China?", stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len(chunks) > 3
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]


def test_earlier_user_turns_are_the_follow_up_history(client):
    first = ask(client, "Why did Liu Jun return to China?").choices[0].message.content
    follow_up = ask(client, "Why did Liu Jun return to China?", first, "How old was he then?")
    answer = follow_up.choices[0].message.content.split("\n\nSources:\n")[0]
    assert "at the age of 60" in answer


def test_an_unanswerable_question_is_refused_with_nothing_cited(client):
    completion = ask(client, "What is the boiling point of mercury on Mars?")
    assert completion.choices[0].message.content == REFUSAL
    assert completion.model_extra["refused"] is True and completion.model_extra["citations"] == []


def test_a_wrong_or_missing_key_is_refused_in_openais_shape(api_url):
    import httpx
    from openai import AuthenticationError, OpenAI

    wrong = OpenAI(base_url=api_url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(AuthenticationError) as raised:
        ask(wrong, "Why did Liu Jun return to China?")
    assert raised.value.status_code == 401
    assert raised.value.body["code"] == "invalid_api_key"
    missing = httpx.get(api_url + "/v1/models")
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "invalid_request_error"


def test_an_empty_question_or_unknown_model_is_a_clear_client_error(client):
    from openai import BadRequestError, NotFoundError

    with pytest.raises(BadRequestError, match="The question is empty"):
        ask(client, "   ")
    with pytest.raises(NotFoundError, match="does not exist"):
        client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "Why?"}]
        )
    with pytest.raises(BadRequestError, match="messages"):
        client.chat.completions.create(model="rag-extractive", messages=[])


def test_rag_ask_answers_through_the_running_server_without_loading_the_model(api_url, home):
    env = {**os.environ, "RAG_HOME": str(home), "RAG_API_KEY": KEY}
    announced = json.loads((home / "server.json").read_text())
    assert announced["url"] == api_url
    probe = (
        "import sys; from ui.cli import main; "
        "code = main(['ask', '--json', 'Why did Liu Jun return to China?']); "
        "print('torch loaded' if 'torch' in sys.modules else 'no torch', file=sys.stderr); "
        "sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "no torch"
    assert "patriot" in json.loads(result.stdout)["text"]
    empty = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ask", " "], capture_output=True, text=True, env=env
    )
    assert empty.returncode == 2 and empty.stderr.strip().startswith("error: The question is")


def test_rag_ask_needs_no_key_for_its_own_library_and_says_when_a_key_is_refused(api_url, home):
    """This machine's `rag ask` uses the owner's token from server.json, whatever key its
    shell has; a server named by RAG_SERVER_URL that refuses the key is one line, never a
    silent answer from another process."""
    env = {k: v for k, v in os.environ.items() if k != "RAG_API_KEY"}
    env.update({"RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"})
    probe = (
        "import sys; from ui.cli import main; code = main(['ask', 'Why did Liu Jun return?']); "
        "print('torch loaded' if 'torch' in sys.modules else 'no torch', file=sys.stderr); "
        "sys.exit(code)"
    )
    own = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert own.returncode == 0 and own.stderr.strip() == "no torch", own.stderr
    wrong = {**env, "RAG_SERVER_URL": api_url, "RAG_API_KEY": "sk-not-the-key"}
    refused = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ask", "Why did Liu Jun return?"],
        capture_output=True,
        text=True,
        env=wrong,
        timeout=120,
    )
    assert refused.returncode == 1 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert "refused this key (RAG_API_KEY)" in line
