"""Sharing you can trust, through real servers on 127.0.0.1: access decided on every request
from the users file as it is now, readers shown only what readers may see (on every event of
the page and every route of the API), uploads that land whole or not at all, limits that
count what was done, and client addresses from the socket."""

import json
import os
import stat
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import rag
from tests.gradio_http import PageClient
from tests.servers import free_port, running

pytestmark = pytest.mark.integration
PASSWORDS = {
    "rita": "reader-pass-1",
    "eddie": "editor-pass-1",
    "carl": "carl-pass-12",
    "dora": "dora-pass-12",
    "quinn": "quinn-pass-12",
}
ROLES = {"rita": "reader", "eddie": "editor", "carl": "reader", "dora": "reader", "quinn": "reader"}
MAX_FILES, PER_HOUR, QUESTIONS = 2, 3, 3
QUESTION = "What title was Liu Jun given at Tsinghua?"


def add_user(home: Path, name: str, password: str | None = None) -> str:
    added = rag(
        "users", "add", name, "--role", ROLES[name], "--password-stdin",
        home=home, stdin=(password or PASSWORDS[name]) + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return added.stdout.split("(shown only now): ")[1].strip()


@pytest.fixture(scope="module")
def page_home(tmp_path_factory):
    return tmp_path_factory.mktemp("page-home")


@pytest.fixture(scope="module")
def page(page_home):
    """A page started with nobody signed up (as `make run` starts it)."""
    port = free_port()
    env = {
        **os.environ,
        "RAG_HOME": str(page_home),
        "RAG_MAX_UPLOAD_FILES": str(MAX_FILES),
        "RAG_UPLOADS_PER_HOUR": str(PER_HOUR),
        "RAG_MAX_UPLOAD_BYTES": "200000",
        "RAG_QUESTIONS_PER_MINUTE": str(QUESTIONS),
    }
    command = [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/", page_home / "ui.log", env=env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def signed_up(page, page_home):
    """The page's users, added while it runs."""
    for name in ("rita", "eddie"):
        add_user(page_home, name)
    return page


def signed_in(url: str, name: str) -> PageClient:
    return PageClient(url, name, PASSWORDS[name])


def test_an_open_page_asks_for_sign_in_as_soon_as_a_user_exists(page, page_home):
    anonymous = PageClient(page)
    assert anonymous.config().status_code == 200
    add_user(page_home, "eddie")
    assert anonymous.config().status_code == 401
    assert anonymous.call(0, []) == 401
    assert signed_in(page, "eddie").config().status_code == 200


def test_a_removed_users_session_ends_at_once(signed_up, page_home):
    add_user(page_home, "carl")
    carl = signed_in(signed_up, "carl")
    ask = next(e["id"] for e in carl.events() if e["api_name"] == "ask")
    answered = carl.call(ask, [QUESTION, [], [], [], "extractive", [], ""])
    assert "Tsinghua" in json.dumps(answered["output"]["data"][0])
    assert rag("users", "remove", "carl", home=page_home).returncode == 0
    assert carl.config().status_code == 401
    assert carl.call(ask, [QUESTION, [], [], [], "extractive", [], ""]) == 401


def test_a_session_belongs_to_the_password_it_signed_in_with(signed_up, page_home):
    add_user(page_home, "dora")
    used, unused = signed_in(signed_up, "dora"), signed_in(signed_up, "dora")
    # Gradio signs in at /login/ too.
    slashed = PageClient(signed_up)
    login = {"username": "dora", "password": PASSWORDS["dora"]}
    assert slashed.http.post("/login/", data=login).status_code == 200
    assert used.config().status_code == 200  # the others make no request before the change
    # Removed and added again, or given a new password: the old session is over either way.
    assert rag("users", "remove", "dora", home=page_home).returncode == 0
    add_user(page_home, "dora", password="another-pass-34")
    assert used.config().status_code == 401
    assert unused.config().status_code == 401
    assert slashed.config().status_code == 401
    assert PageClient(signed_up, "dora", "another-pass-34").config().status_code == 200


def test_questions_refused_on_the_page_never_count(signed_up, page_home):
    add_user(page_home, "quinn")
    quinn = signed_in(signed_up, "quinn")
    ask = next(e["id"] for e in quinn.events() if e["api_name"] == "ask")

    def status(question: str) -> str:
        return json.dumps(quinn.call(ask, [question, [], [], [], "extractive", [], ""]))

    for _ in range(QUESTIONS):
        assert "in the last minute" not in status("   ")
    said = [status(QUESTION) for _ in range(QUESTIONS + 1)]
    assert all("Tsinghua" in s for s in said[:QUESTIONS])
    assert "You have asked 3 questions in the last minute" in said[QUESTIONS]


def test_no_request_to_the_page_may_be_larger_than_allowed(signed_up):
    reader = signed_in(signed_up, "rita")
    body = b'{"data": ["' + b"a" * 9_000_000 + b'"], "fn_index": 8, "session_hash": "x"}'
    huge = reader.http.post(
        "/gradio_api/queue/join", content=body, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413


def test_an_unreadable_users_file_is_one_line_on_the_page_too(signed_up, page_home):
    users = page_home / "users.json"
    kept = users.read_bytes()
    try:
        users.write_text("{not json")
        response = httpx.post(f"{signed_up}/login", data={"username": "rita", "password": "x"})
        assert response.status_code == 503
        assert response.text.startswith("The server cannot read its users file")
    finally:
        users.write_bytes(kept)
    assert signed_in(signed_up, "rita").config().status_code == 200


def _documents(home: Path) -> list[dict]:
    listed = rag("docs", "list", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def _inputs(event: dict, components: dict, document_id: str) -> list:
    """Plausible values for an event's inputs: the library's document where one is chosen."""
    values = []
    for cid in event["inputs"]:
        component = components[cid]
        props = component.get("props", {})
        if component["type"] == "dropdown":
            values.append([document_id] if props.get("multiselect") else document_id)
        elif component["type"] == "textbox":
            values.append(QUESTION)
        else:
            values.append(props.get("value"))
    return values


def test_every_event_of_the_page_as_anonymous_reader_and_editor(signed_up, page_home):
    (seed,) = _documents(page_home)
    secrets = [seed["path"], seed["added_by"]]  # what a reader may not learn
    editor = signed_in(signed_up, "eddie")
    config = editor.config().json()
    components = {c["id"]: c for c in config["components"]}
    events = editor.events()
    # A new event must be added here knowingly: each one is called below as everyone.
    assert sorted(e["api_name"] for e in events) == sorted(
        ["load_example", "add_documents", "ask_to_confirm", "remove_document", "lambda",
         "lambda_1", "on_load", "false", "ask", "false_1", "lambda_2", "open_chosen",
         "rename", "delete", "on_load_1", "false_2", "from_library", "from_choice",
         "on_load_2", "record_feedback"]
    )  # fmt: skip
    anonymous, reader = PageClient(signed_up), signed_in(signed_up, "rita")
    saw = {}
    for event in events:
        data = _inputs(event, components, seed["id"])
        assert anonymous.call(event["id"], data) == 401, event["api_name"]
        said = reader.call(event["id"], data)
        text = json.dumps(said)
        assert not any(secret in text for secret in secrets), (event["api_name"], text[:300])
        saw[event["api_name"]] = text
    # Refused, by the handler or already by Gradio (a reader's list of documents to remove
    # is empty, so no document may be named in it).
    for name in ("remove_document", "ask_to_confirm"):
        assert "Only editors" in saw[name] or "not in the list of choices: []" in saw[name]
    assert [d["id"] for d in _documents(page_home)] == [seed["id"]]  # nothing removed
    # What a reader does get: the documents' names, to choose what to search in.
    assert seed["name"] in saw["on_load"]
    # The same calls give an editor the library, paths and all: the check above can fail.
    on_load = next(e for e in events if e["api_name"] == "on_load")
    assert seed["path"] in json.dumps(editor.call(on_load["id"], []))


def test_only_editors_post_files_and_no_body_outgrows_one_upload(signed_up):
    reader, editor = signed_in(signed_up, "rita"), signed_in(signed_up, "eddie")
    files = {"files": ("note.txt", b"The ferry runs at nine.\n", "text/plain")}
    assert reader.http.post("/gradio_api/upload", files=files).status_code == 403
    assert reader.http.post("/gradio_api/process_recording", files=files).status_code == 403
    assert editor.http.post("/gradio_api/upload", files=files).status_code == 200
    huge = {"files": ("big.txt", b"x" * (MAX_FILES * 200_000 + 1_100_000), "text/plain")}
    refused = editor.http.post("/gradio_api/upload", files=huge)
    assert refused.status_code == 413, refused.text


def test_uploads_land_whole_or_leave_nothing_and_limits_count_what_was_added(
    signed_up, page_home, tmp_path
):
    from gradio_client import Client, handle_file

    editor = Client(signed_up, auth=("eddie", PASSWORDS["eddie"]), verbose=False)
    uploads = page_home / "uploads"

    def upload(*names: str) -> str:
        return editor.predict([handle_file(str(tmp_path / n)) for n in names], [],
                              api_name="/add_documents")[0]  # fmt: skip

    for n, town in enumerate(["Brenmoor", "Calloway", "Dunmere", "Eastwick"]):
        (tmp_path / f"town-{n}.md").write_text(f"The ferry of {town} leaves at {n + 7} o'clock.\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a Word file")
    audit = page_home / "audit.jsonl"
    before = audit.read_text().count("\n") if audit.exists() else 0

    said = upload("town-0.md", "town-1.md", "town-2.md")
    assert said == f"⚠ At most {MAX_FILES} files at a time; nothing was added."
    said = upload("empty.txt", "broken.docx")
    assert "empty.txt: the file is empty" in said and "broken.docx: " in said
    assert not uploads.exists() or not [p.name for p in uploads.iterdir()]
    # Neither batch used any of the hour's allowance of 3 files.
    said = upload("town-0.md", "town-1.md")
    assert said.startswith("Added. 2 files (0 unchanged)"), said
    assert sorted(p.name for p in uploads.iterdir()) == ["town-0.md", "town-1.md"]
    assert upload("town-2.md").startswith("Added. 1 files (0 unchanged)")
    assert "You have added 3 files in the last hour" in upload("town-3.md")
    lines = [json.loads(x) for x in audit.read_text().splitlines()[before:]]
    assert [(x["user"], x["action"], x["document"]) for x in lines] == [
        ("eddie", "upload", f"uploads/town-{n}.md") for n in range(3)
    ]
    # The next upload is not stuck behind the refused ones: nothing of them is left.
    assert sorted(p.name for p in uploads.iterdir()) == ["town-0.md", "town-1.md", "town-2.md"]


# The API --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-home")
    keys = {name: add_user(home, name) for name in ("rita", "eddie")}
    (home / "keys.json").write_text(json.dumps(keys))
    return home


@pytest.fixture(scope="module")
def api(api_home):
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(api_home), "RAG_QUESTIONS_PER_MINUTE": str(QUESTIONS)}
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/health", api_home / "api.log", env=env):
        yield f"http://127.0.0.1:{port}"


def bearer(api_home: Path, name: str) -> dict:
    return {"Authorization": f"Bearer {json.loads((api_home / 'keys.json').read_text())[name]}"}


def test_the_api_shows_readers_names_and_editors_everything(api, api_home):
    for_reader = httpx.get(f"{api}/v1/library", headers=bearer(api_home, "rita")).json()
    for_editor = httpx.get(f"{api}/v1/library", headers=bearer(api_home, "eddie")).json()
    (seen,), (full,) = for_reader["documents"], for_editor["documents"]
    assert set(seen) == {"id", "name", "passages", "chars", "ingested_at"}
    assert full["path"].endswith(".txt") and full["path"] not in json.dumps(for_reader)


def test_no_body_is_read_before_its_size_is_checked(api):
    # No key at all: refused for its size before anything else reads it.
    huge = httpx.post(
        f"{api}/v1/answer",
        content=b'{"question": "' + b"a" * 9_000_000 + b'"}',
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "request_too_large"  # OpenAI's error shape


def test_readers_scope_questions_by_name_never_by_server_path(api, api_home):
    editor = httpx.get(f"{api}/v1/library", headers=bearer(api_home, "eddie")).json()
    (seed,) = editor["documents"]

    def scoped(name: str, to: str) -> int:
        body = {"question": QUESTION, "documents": [to]}
        asked = httpx.post(f"{api}/v1/answer", json=body, headers=bearer(api_home, name))
        return asked.status_code, asked.text

    # A right guess of the server path is told apart from a wrong one in nothing.
    wrong = seed["path"].replace(".txt", "-not.txt")
    right_guess, wrong_guess = scoped("rita", seed["path"]), scoped("rita", wrong)
    assert right_guess[0] == wrong_guess[0] == 400
    assert right_guess[1].replace(seed["path"], wrong) == wrong_guess[1]
    assert scoped("rita", seed["name"])[0] == 200


def test_conversations_through_the_api_are_the_callers_own(api, api_home):
    from openai import OpenAI

    def client(name):
        key = json.loads((api_home / "keys.json").read_text())[name]
        return OpenAI(base_url=api + "/v1", api_key=key, max_retries=0, timeout=120)

    def listed(name):
        got = httpx.get(f"{api}/v1/conversations", headers=bearer(api_home, name))
        return got.json()["conversations"]

    rita = client("rita")
    turn = [{"role": "user", "content": QUESTION}]
    first = rita.chat.completions.create(
        model="rag-extractive", messages=turn, extra_body={"conversation": "new"}
    )
    conversation = first.model_dump()["conversation"]
    rita.chat.completions.create(
        model="rag-extractive", messages=turn, extra_body={"conversation": conversation}
    )
    (mine,) = listed("rita")
    assert (mine["id"], mine["title"], mine["answers"]) == (conversation, QUESTION, 2)
    whole = httpx.get(f"{api}/v1/conversations/{conversation}", headers=bearer(api_home, "rita"))
    cited = whole.json()["answers"][0]["citations"]
    assert cited and all(c["quote"] for c in cited)
    # Nobody else sees, renames or deletes it.
    assert listed("eddie") == []
    for method in ("GET", "DELETE"):
        theirs = httpx.request(
            method, f"{api}/v1/conversations/{conversation}", headers=bearer(api_home, "eddie")
        )
        assert theirs.status_code == 404
    renamed = httpx.patch(
        f"{api}/v1/conversations/{conversation}",
        json={"title": "Liu Jun's title"},
        headers=bearer(api_home, "rita"),
    )
    assert renamed.json()["title"] == "Liu Jun's title"
    gone = httpx.delete(f"{api}/v1/conversations/{conversation}", headers=bearer(api_home, "rita"))
    assert gone.status_code == 200 and listed("rita") == []


# Uses up eddie's questions for the minute: after every other test that asks as eddie.
def test_refused_requests_are_errors_in_openais_shape_and_never_count(api, api_home):
    headers = bearer(api_home, "eddie")
    not_text = [{"role": "user", "content": [{"type": "text", "text": 5}]}]
    refused = [
        ("/v1/chat/completions", {"model": "rag-extractive", "messages": not_text}),
        ("/v1/chat/completions", {"model": "no-such-model",
                                  "messages": [{"role": "user", "content": QUESTION}]}),
        ("/v1/answer", {"question": "   "}),
        ("/v1/answer", {"question": "x" * 5000}),
    ]  # fmt: skip
    for route, body in refused:
        response = httpx.post(api + route, json=body, headers=headers, timeout=120)
        assert response.status_code in (400, 404), (route, response.text)
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    asked = [
        httpx.post(f"{api}/v1/answer", json={"question": QUESTION}, headers=headers, timeout=120)
        for _ in range(QUESTIONS + 1)
    ]
    assert [r.status_code for r in asked] == [200] * QUESTIONS + [429]


def test_an_unreadable_users_file_locks_everyone_out_with_one_line(api, api_home):
    users = api_home / "users.json"
    kept = users.read_bytes()
    try:
        users.write_text("{not json")
        response = httpx.get(f"{api}/v1/models", headers=bearer(api_home, "rita"))
        assert response.status_code == 503
        assert "cannot read its users file" in response.json()["error"]["message"]
    finally:
        users.write_bytes(kept)
    assert httpx.get(f"{api}/v1/models", headers=bearer(api_home, "rita")).status_code == 200


def test_with_its_last_user_removed_the_api_lets_nobody_in(api, api_home):
    # Last of the API tests: it takes the users away.
    for name in ("rita", "eddie"):
        assert rag("users", "remove", name, home=api_home).returncode == 0
    for headers in ({}, bearer(api_home, "rita"), bearer(api_home, "eddie")):
        assert httpx.get(f"{api}/v1/models", headers=headers).status_code == 401


def test_an_empty_api_key_is_refused_in_one_line(tmp_path):
    started = rag("serve", "--port", str(free_port()), home=tmp_path, env={"RAG_API_KEY": ""})
    assert started.returncode == 2
    assert started.stderr.strip() == "error: RAG_API_KEY: empty: unset it, or set it to a secret"


@pytest.fixture(scope="module")
def open_api(tmp_path_factory):
    """`rag serve` with no users and no key (loopback), and no language model: the
    configured GGUF file does not exist."""
    home = tmp_path_factory.mktemp("open-api")
    port = free_port()
    env = {
        **os.environ,
        "RAG_HOME": str(home),
        "RAG_QUESTIONS_PER_MINUTE": "2",
        "RAG_LLM_BACKEND": "gguf",
        "RAG_GGUF_PATH": str(home / "no-such-model.gguf"),
    }
    env.pop("RAG_LLM_BASE_URL", None)
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/health", home / "api.log", env=env):
        yield f"http://127.0.0.1:{port}"


def test_a_forwarded_for_header_gives_no_fresh_allowance(open_api):
    statuses = [
        httpx.post(
            f"{open_api}/v1/answer",
            json={"question": QUESTION},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            timeout=120,
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_model_not_offered_is_refused_saying_why(open_api):
    offered = httpx.get(f"{open_api}/v1/models").json()["data"]
    assert [m["id"] for m in offered] == ["rag-extractive"]
    asked = httpx.post(
        f"{open_api}/v1/chat/completions",
        json={"model": "rag-llm", "messages": [{"role": "user", "content": QUESTION}]},
    )
    assert asked.status_code == 404
    said = asked.json()["error"]["message"]
    assert "make .venv/bin/.dev" in said and said.endswith("use one of rag-extractive.")


def test_the_page_allows_only_its_own_inline_scripts(signed_up):
    import base64
    import hashlib
    import re

    from ui.security import page_policy

    response = signed_in(signed_up, "eddie").http.get("/")
    policy = response.headers["content-security-policy"]
    inline = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)

    def allowed(body: bytes) -> bool:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        return f"'sha256-{digest}'" in policy

    scripts = inline.findall(response.content)
    assert scripts and all(allowed(body) for body in scripts)
    # A script that reached the page from anywhere else is not the app's, whatever it
    # imitates: the policy for that page is the same, without it.
    injected = b"window.gradio_config = {};fetch('//evil.example')//};"
    page = response.content.replace(b"</head>", b"<script>" + injected + b"</script></head>")
    assert page_policy(page) == policy
    assert not allowed(injected)


def test_the_pages_own_copies_of_files_are_private(signed_up, page_home):
    # Earlier tests asked questions, so Gradio holds exports of whole conversations.
    files = page_home / "page-files"
    assert stat.S_IMODE(files.stat().st_mode) == 0o700
    assert any(files.rglob("conversation-*.md"))


def test_a_user_removed_takes_their_conversations_along(tmp_path):
    from rag.types import Answer
    from ui.conversations import Conversations

    add_user(tmp_path, "carl")
    Conversations(tmp_path, "carl").add(None, Answer(QUESTION, "They do not say."))
    removed = rag("users", "remove", "carl", home=tmp_path)
    assert removed.stdout.strip() == "removed carl and 1 conversation"
    add_user(tmp_path, "carl")  # someone else, later, under the same name
    assert Conversations(tmp_path, "carl").all() == []
