"""A shared deployment: sign-in, roles, the audit log, limits per visitor and security headers,
with real `rag ui` and `rag serve` processes on 127.0.0.1 and real HTTP clients."""

import json
import os
import shutil
import sys

import httpx
import pytest

from rag.access.users import check_exposure, is_loopback
from tests.conftest import rag, require
from tests.servers import free_port, running

pytestmark = pytest.mark.integration
PASSWORDS = {"rita": "reader-pass-1", "eddie": "editor-pass-1", "quinn": "quick-pass-1"}
ROLES = {"rita": "reader", "eddie": "editor", "quinn": "reader"}
LIMIT = 4  # questions a minute for this deployment


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("shared-home")
    keys = {}
    for name, password in PASSWORDS.items():
        added = rag(
            "users",
            "add",
            name,
            "--role",
            ROLES[name],
            "--password-stdin",
            home=home,
            stdin=password + "\n",
        )
        assert added.returncode == 0, added.stderr
        keys[name] = added.stdout.split("(shown only now): ")[1].strip()
    (home / "keys.json").write_text(json.dumps(keys))
    return home


@pytest.fixture(scope="module")
def keys(home):
    return json.loads((home / "keys.json").read_text())


@pytest.fixture(scope="module")
def ui_url(home):
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(home), "RAG_QUESTIONS_PER_MINUTE": str(LIMIT)}
    command = [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/", home / "ui.log", env=env, cwd=home):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def api_url(home, tmp_path_factory):
    # A library has one server (the page owns `home`): the API serves a library of its own
    # with the same users file.
    api_home = tmp_path_factory.mktemp("api-home")
    shutil.copy2(home / "users.json", api_home / "users.json")
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(api_home), "RAG_QUESTIONS_PER_MINUTE": str(LIMIT)}
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/health", api_home / "api.log", env=env):
        yield f"http://127.0.0.1:{port}"


def client(ui_url, name):
    from gradio_client import Client

    return Client(ui_url, auth=(name, PASSWORDS[name]), verbose=False)


@pytest.mark.parametrize("command", ["ui", "serve"])
def test_serving_beyond_this_machine_without_sign_in_is_refused(tmp_path, command):
    result = rag(command, "--host", "0.0.0.0", "--port", str(free_port()), home=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: refusing to listen on 0.0.0.0 without sign-in: ")
    assert "rag users add" in line and "--insecure" in line


def test_insecure_is_a_warning_and_loopback_needs_nothing():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert check_exposure("127.0.0.1", False, False, "sign in") is None
    assert check_exposure("0.0.0.0", True, False, "sign in") is None
    assert "WARNING: listening on 0.0.0.0 with no sign-in" in check_exposure(
        "0.0.0.0", False, True, "sign in"
    )


def test_the_users_file_keeps_hashes_never_passwords_or_keys(home, keys):
    stored = (home / "users.json").read_text()
    assert all(password not in stored for password in PASSWORDS.values())
    assert all(key not in stored for key in keys.values())
    roles = {u["name"]: u["role"] for u in json.loads(stored)["users"]}
    assert roles == ROLES
    listed = rag("users", "list", home=home).stdout.split()
    assert listed == ["rita", "reader", "eddie", "editor", "quinn", "reader"]


def test_a_wrong_password_is_refused_and_the_session_cookie_is_httponly_lax(ui_url):
    wrong = httpx.post(f"{ui_url}/login", data={"username": "rita", "password": "nope-nope"})
    assert wrong.status_code in (400, 401) and "set-cookie" not in wrong.headers
    right = httpx.post(f"{ui_url}/login", data={"username": "rita", "password": PASSWORDS["rita"]})
    assert right.status_code == 200
    cookies = right.headers.get_list("set-cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)


def test_the_page_and_the_api_send_security_headers(ui_url, api_url):
    for response in (httpx.get(ui_url + "/"), httpx.get(api_url + "/v1/models")):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        policy = headers["content-security-policy"]
        assert (
            "frame-ancestors 'none'" in policy
            and "unsafe-inline" not in policy.split("style-src")[0]
        )


def test_a_reader_can_ask_but_not_add_or_remove_documents(ui_url, home, tmp_path):
    from gradio_client import handle_file

    reader = client(ui_url, "rita")
    note = tmp_path / "poison.md"
    note.write_text("The castle of Brenmoor was built by aliens in 1999.\n")
    # Not even the file reaches the server: Gradio's upload route is for editors only.
    with pytest.raises(httpx.HTTPStatusError, match="403"):
        reader.predict([handle_file(str(note))], [], api_name="/add_documents")
    (seed,) = json.loads(rag("docs", "list", "--json", home=home).stdout)
    # Refused by the handler, or already by Gradio: a reader's list of documents to remove
    # is empty, so none may be named in it.
    try:
        said = reader.predict(seed["id"], [], api_name="/remove_document")[0]
    except Exception as error:  # noqa: BLE001 - gradio_client raises its own AppError
        said = str(error)
    assert "Only editors" in said or "not in the list of choices" in said
    assert [d["id"] for d in json.loads(rag("docs", "list", "--json", home=home).stdout)] == [
        seed["id"]
    ]
    answer = reader.predict(
        "What title was Liu Jun given at Tsinghua?", [], "extractive", [], api_name="/ask"
    )[0]
    assert "Tsinghua" in answer[-1]["content"][0]["text"]


def test_an_editors_upload_and_removal_are_in_the_audit_log(ui_url, home, tmp_path):
    from gradio_client import handle_file

    editor = client(ui_url, "eddie")
    note = tmp_path / "ferry.md"
    note.write_text("The Lisbon harbour ferry carries 9,000 commuters a day.\n")
    said, rows, *_ = editor.predict([handle_file(str(note))], [], api_name="/add_documents")
    assert said.startswith("Added."), said
    # The table's row of the upload names who added it.
    (row,) = [r for r in rows.split("<tr>") if "uploads/ferry.md" in r]
    assert "data-label='added by'>eddie<" in row
    log = [json.loads(line) for line in (home / "audit.jsonl").read_text().splitlines()]
    upload = log[-1]
    assert (upload["user"], upload["action"], upload["document"]) == (
        "eddie",
        "upload",
        "uploads/ferry.md",
    )
    assert upload["size"] == len(note.read_text()) and len(upload["sha256"]) == 64
    listed = json.loads(rag("docs", "list", "--json", home=home).stdout)
    (ferry,) = [d for d in listed if d["name"] == "uploads/ferry.md"]
    assert ferry["added_by"] == "eddie"
    said = editor.predict(ferry["id"], [], api_name="/remove_document")[0]
    assert said.startswith("Removed uploads/ferry.md")
    removal = json.loads((home / "audit.jsonl").read_text().splitlines()[-1])
    assert (removal["user"], removal["action"], removal["document"]) == (
        "eddie",
        "remove",
        "uploads/ferry.md",
    )
    assert removal["sha256"] == upload["sha256"]


def test_the_library_controls_are_absent_for_readers_and_present_for_editors(ui_url):
    require(os.path.exists("/usr/bin/chromium"), "Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        try:
            for name, present in (("rita", False), ("eddie", True)):
                page = browser.new_context().new_page()
                page.goto(ui_url)
                page.fill("input[name=username], input[type=text]", name)
                page.fill("input[type=password]", PASSWORDS[name])
                page.keyboard.press("Enter")
                page.wait_for_selector("#question textarea", timeout=60_000)
                page.wait_for_timeout(1500)  # the page's load event sets the tab's visibility
                page.get_by_role("tab", name="Library").click()
                page.wait_for_timeout(500)
                for control in ("#library", "#upload", "#remove"):
                    assert page.locator(control).is_visible() == present, (name, control)
                note = page.get_by_text("Only editors can see and change the library.")
                assert note.is_visible() != present, name
                page.context.close()
        finally:
            browser.close()


def test_questions_beyond_the_limit_get_a_polite_message_on_the_page(ui_url):
    asker = client(ui_url, "quinn")
    statuses = [
        asker.predict(
            "What title was Liu Jun given at Tsinghua?", [], "extractive", [], api_name="/ask"
        )[2]
        for _ in range(LIMIT + 1)
    ]
    assert "in the last minute" not in json.dumps(statuses[:LIMIT])
    assert "You have asked 4 questions in the last minute" in json.dumps(statuses[LIMIT])


def test_the_api_takes_each_users_key_and_limits_their_questions(api_url, keys):
    from openai import AuthenticationError, OpenAI, RateLimitError

    def asker(key):
        return OpenAI(base_url=api_url + "/v1", api_key=key, max_retries=0, timeout=120)

    question = [{"role": "user", "content": "What title was Liu Jun given at Tsinghua?"}]
    with pytest.raises(AuthenticationError):
        asker("rag-not-a-key").chat.completions.create(model="rag-extractive", messages=question)
    eddie = asker(keys["eddie"])
    for _ in range(LIMIT):
        reply = eddie.chat.completions.create(model="rag-extractive", messages=question)
        assert "Tsinghua" in reply.choices[0].message.content
    with pytest.raises(RateLimitError, match="questions in the last minute"):
        eddie.chat.completions.create(model="rag-extractive", messages=question)
    # Limits are per user: another user still has all of theirs.
    reply = asker(keys["rita"]).chat.completions.create(model="rag-extractive", messages=question)
    assert "Tsinghua" in reply.choices[0].message.content
