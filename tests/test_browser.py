"""The chat page in a real browser: Debian's Chromium driven by Playwright, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require
from tests.servers import free_port, running

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("RAG_ARTIFACTS", "artifacts")) / "screenshots"
ANSWER_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def app_home(tmp_path_factory):
    """The app's data directory, with a secret `.env` beside it in its working directory."""
    home = tmp_path_factory.mktemp("ui-home")
    (home / ".env").write_text("RAG_LLM_API_KEY=sk-secret-do-not-serve\n")
    return home


@pytest.fixture(scope="module")
def app_url(app_home):
    """`rag ui` in its own process, on a fresh data directory, stopped after the tests."""
    port = free_port()
    env = {**os.environ, "RAG_HOME": str(app_home), "HF_HUB_OFFLINE": "1"}
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)]
    with running(command, url, app_home / "ui.log", env=env, cwd=app_home):
        yield url


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url, request):
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.wait_for_selector("#question textarea")
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@contextlib.contextmanager
def fresh_page(browser, app_url, width: int, height: int = 900):
    """A new tab of the app at `width`, its question box ready; closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        yield page
    finally:
        context.close()


def ask(page, question: str, answers_before: int | None = None) -> str:
    """Type a question, send it, and return the text of the new answer once complete."""
    bots = page.locator("#chat .bot")
    count = bots.count() if answers_before is None else answers_before
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .bot').length > n",
        arg=count,
        timeout=ANSWER_TIMEOUT_MS,
    )
    # Streaming is over when the markers or the refusal note have been rendered.
    page.wait_for_function(
        "() => document.querySelector('#sources .source, #sources .refusal') !== null"
        " && !document.querySelector('.generating, .pending')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    return bots.nth(count).inner_text()


def status_text(page) -> str:
    """The status line under the chat; "" when it is hidden (it has nothing to say)."""
    line = page.locator("#status textarea")
    return line.input_value() if line.count() and line.is_visible() else ""


def upload(page, paths) -> None:
    """Add files on the Library tab, wait until they are ingested, go back to the chat."""
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#upload input[type=file]", [str(p) for p in paths])
    page.click("#add")
    page.wait_for_function(
        "() => (document.querySelector('#ingest-status textarea') || {}).value?.includes('Added')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.get_by_role("tab", name="Chat").click()


def test_answer_with_marker_that_shows_the_highlighted_quote(page):
    answer = ask(page, "Why did Liu Jun return to China?")
    # The marker that follows the sentence giving his reasons (other sentences may be cited too).
    marker = re.search(r"patriotism\.\s*(\[\d+\])", answer)
    assert marker, answer
    page.locator("#chat .bot a.cite", has_text=marker.group(1)).last.click()
    selected = page.locator(f"#sources #source-{marker.group(1).strip('[]')}.selected")
    selected.wait_for()
    assert "love for education and science" in selected.locator("mark").inner_text()
    assert "reverse-brain-drain" in selected.locator(".where").inner_text()
    shot = _screenshot_path("answer-with-sources")
    page.screenshot(path=str(shot), full_page=False)
    if os.environ.get("RAG_UPDATE_SCREENSHOT"):  # refresh the README's picture from this page
        docs = Path(__file__).resolve().parent.parent / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copy(shot, docs / "screenshot.png")


def test_each_answers_markers_open_that_answers_own_sources(page):
    assert status_text(page) == ""  # nothing to say yet: no empty box under the chat
    first = ask(page, "What title was Liu Jun given at Tsinghua?")
    second = ask(page, "What has made the US less welcoming for Chinese-born scientists?")
    assert "[1]" in first and "[1]" in second
    page.locator("#chat .bot").nth(0).locator("a.cite", has_text="[1]").click()
    card = page.locator("#sources #source-1.selected")
    page.wait_for_function(
        "() => document.querySelector('#sources #source-1.selected mark')?.innerText"
        ".includes('Tsinghua')",
        timeout=30_000,
    )
    shown_first = card.locator("mark").inner_text()
    page.locator("#chat .bot").nth(1).locator("a.cite", has_text="[1]").click()
    page.wait_for_function(
        "old => document.querySelector('#sources #source-1.selected mark')?.innerText !== old",
        arg=shown_first,
        timeout=30_000,
    )
    assert "Tsinghua" not in card.locator("mark").inner_text()
    # A marker is a link made by the app, never by a document: plain text around it stays text.
    assert page.locator("#chat .bot a:not(.cite)").count() == 0


def test_the_conversation_exports_as_markdown_with_its_citations(page, tmp_path):
    answer = ask(page, "What title was Liu Jun given at Tsinghua?")
    with page.expect_download() as download:
        page.click("#export")
    saved = tmp_path / "chat.md"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# Ask your documents\n")
    assert "**Question:** What title was Liu Jun given at Tsinghua?" in text
    assert f"**Answer:** {answer.strip()}" in text
    assert (
        "- [1] seeds/reverse-brain-drain-chinese-researchers-return-from-us.txt, characters" in text
    )


def test_the_page_holds_at_390_pixels_wide(browser, app_url):
    with fresh_page(browser, app_url, 390, 844) as page:
        ask(page, "Why did Liu Jun return to China?")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        sources = page.locator("#sources").bounding_box()
        chat = page.locator("#chat").bounding_box()
        examples = page.get_by_text("Try (on the bundled article)").bounding_box()
        # Stacked: the chat, then its sources, then the controls and examples.
        assert chat["y"] < sources["y"] < examples["y"]
        assert sources["x"] >= 0 and sources["x"] + sources["width"] <= 390
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "narrow-390.png"), full_page=True)


def test_out_of_scope_question_is_refused_plainly(page):
    answer = ask(page, "What is the capital of Australia?")
    assert "do not say" in answer
    assert page.locator("#sources .refusal").count() == 1
    assert page.locator("#sources .source:not(.consulted)").count() == 0


def test_follow_up_question_uses_the_previous_one(page):
    ask(page, "Why did Liu Jun return to China?")
    answer = ask(page, "How old was he then?")
    assert "60" in answer
    assert "Liu Jun" in status_text(page)


def test_uploaded_document_is_searchable_and_cited(page, tmp_path):
    doc = tmp_path / "harbour notes.md"
    doc.write_text("# Harbour\n\nThe Lisbon harbour ferry carries 9,000 commuters a day.\n")
    upload(page, [doc])
    answer = ask(page, "How many commuters does the Lisbon harbour ferry carry?")
    assert "9,000" in answer
    assert "harbour-notes.md" in page.locator("#sources .source.selected .where").inner_text()


def library_shows(page, names: list[str], absent: tuple[str, ...] = ()) -> None:
    """Wait until the Library table lists every name and none of `absent`."""
    page.wait_for_function(
        """([names, absent]) => {
            const text = document.querySelector('#library')?.innerText || '';
            return names.every(n => text.includes(n)) && !absent.some(n => text.includes(n));
        }""",
        arg=[names, list(absent)],
        timeout=ANSWER_TIMEOUT_MS,
    )


def test_library_tab_lists_word_and_pdf_uploads_scopes_and_removes_with_confirmation(
    page, tmp_path, app_home
):
    import docx
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    word = docx.Document()
    word.add_paragraph("The Brenmoor castle well is 31 metres deep and never runs dry.")
    word.save(tmp_path / "castle.docx")
    figure = plt.figure()
    figure.text(0.05, 0.5, "The Carrow lighthouse lamp was lit by a keeper until 1931.")
    figure.savefig(tmp_path / "lighthouse.pdf")
    plt.close(figure)
    upload(page, [tmp_path / "castle.docx", tmp_path / "lighthouse.pdf"])
    page.get_by_role("tab", name="Library").click()
    library_shows(page, ["uploads/castle.docx", "uploads/lighthouse.pdf", "seeds/reverse-brain"])
    page.get_by_role("tab", name="Chat").click()
    assert "31 metres" in ask(page, "How deep is the Brenmoor castle well?")

    # Scoped to the PDF, the castle question finds nothing to cite.
    page.click("#new-chat")
    page.locator("#scope input").click()
    page.get_by_role("option", name="uploads/lighthouse.pdf").click()
    page.keyboard.press("Escape")
    scoped = ask(page, "How deep is the Brenmoor castle well?", answers_before=0)
    assert "31 metres" not in scoped and "do not say" in scoped

    page.reload()  # a fresh page searches every document again
    page.wait_for_selector("#question textarea")
    page.get_by_role("tab", name="Library").click()
    page.locator("#doomed input").click()
    page.get_by_role("option", name="uploads/castle.docx").click()
    page.click("#remove")
    page.locator("#confirm-text", has_text="uploads/castle.docx").wait_for()
    page.click("#cancel-remove")
    page.locator("#confirm-remove").wait_for(state="hidden")
    library_shows(page, ["uploads/castle.docx"])
    page.click("#remove")
    page.click("#confirm-remove")
    page.wait_for_function(
        "() => (document.querySelector('#ingest-status textarea') || {}).value"
        "?.startsWith('Removed uploads/castle.docx')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    library_shows(page, ["uploads/lighthouse.pdf"], absent=["uploads/castle.docx"])
    page.get_by_role("tab", name="Chat").click()
    gone = ask(page, "How deep is the Brenmoor castle well?", answers_before=0)
    assert "31 metres" not in gone and "do not say" in gone
    assert not (app_home / "uploads" / "castle.docx").exists()


def test_script_in_a_document_never_runs(page, tmp_path):
    doc = tmp_path / "evil.html"
    doc.write_text(
        "<html><body><p>The evil ferry timetable lists <img src=x "
        'onerror="window.__pwned=1;alert(1)"> departures at noon.</p>'
        '<p>Click <a href="javascript:window.__pwned=2">here</a> for the ferry.</p>'
        "<script>window.__pwned=3;alert(3)</script></body></html>"
    )
    text_doc = tmp_path / "evil2.txt"
    text_doc.write_text("The midnight ferry sign reads <img src=x onerror=alert(7)> in red.\n")
    upload(page, [doc, text_doc])
    answer = ask(page, "What does the midnight ferry sign read?")
    assert "<img src=x onerror=alert(7)>" in answer  # shown as text
    page.locator("#chat .bot a.cite", has_text="[1]").last.click()
    assert "onerror=alert(7)" in page.locator("#sources .source.selected").inner_text()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#sources img, #chat img[src='x']").count() == 0


def _screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_llm_mode_is_switchable_and_its_status_tells_what_verification_did(page):
    from rag.llm.draft import UNVERIFIED
    from rag.llm.verify import split_claims

    require(_llm_extra_installed(), "the llm extra (llama-cpp-python)")
    question = "Why did Liu Jun return to China?"
    quoted = ask(page, question)  # the extractive answer, which a fallback would repeat
    page.click("#new-chat")  # the same question again, not a follow-up
    page.wait_for_function("() => document.querySelectorAll('#chat .bot').length === 0")
    page.locator("#mode label", has_text="llm").click()
    # Record every text the new answer shows: the streamed draft ends with " …".
    page.evaluate(
        """() => {
            window.__shown = [];
            new MutationObserver(() => {
                const bots = document.querySelectorAll('#chat .bot');
                const text = bots.length ? bots[bots.length - 1].innerText : '';
                if (window.__shown[window.__shown.length - 1] !== text) window.__shown.push(text);
            }).observe(document.querySelector('#chat'),
                       {childList: true, subtree: true, characterData: true});
        }"""
    )
    answer = ask(page, question)
    assert "[1]" in answer and "…" not in answer
    drafts = [t.strip() for t in page.evaluate("window.__shown") if t.strip().endswith("…")]
    assert drafts, "the draft was not streamed"
    drafted = [claim for claim, _ in split_claims(drafts[-1].removesuffix("…"))]
    kept = [claim for claim, _ in split_claims(answer)]
    status = status_text(page)
    fell_back = " ".join(answer.split()) == " ".join(quoted.split())
    # Every drafted sentence is kept or removed; the status counts the removed ones, and says
    # the answer quotes the sources exactly when the model's answer was replaced by them.
    removed = len(drafted) if fell_back else len(drafted) - len(kept)
    if not fell_back:
        assert kept and set(kept) <= set(drafted), (kept, drafted)
    assert (f"{UNVERIFIED}; this answer quotes them instead." in status) == fell_back, status
    counted = f"Verification removed {removed} unsupported sentence(s)."
    assert (counted in status) == (removed > 0), (status, drafted, kept)
    assert ("Verification removed" in status) == (removed > 0), status
    assert "[1]" in answer  # llm-written or quoted instead, every answer here cites
    page.locator("#chat .bot a.cite", has_text="[1]").last.click()
    assert page.locator("#sources .source.selected mark").count() == 1


def _llm_extra_installed() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize(
    "path",
    [
        "gradio_api/file=/etc/passwd",
        "gradio_api/file=../../../../../../etc/passwd",
        "gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "gradio_api/file=..%2f..%2f..%2f..%2fetc%2fpasswd",
        "file=/etc/passwd",
        "gradio_api/file=.env",
        "gradio_api/file={home}/.env",
        "gradio_api/file={home}/store/chroma/chroma.sqlite3",
        "gradio_api/file={home}/ingest.lock",
        "static/../../../../etc/passwd",
    ],
)
def test_file_routes_do_not_serve_files_outside_the_app(app_url, app_home, path):
    url = app_url + path.format(home=app_home)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, b""
    assert status in (400, 403, 404, 405), (status, body[:200])
    assert b"root:" not in body and b"sk-secret" not in body and b"SQLite" not in body


def test_app_listens_on_loopback_only(app_url):
    port = int(app_url.rstrip("/").rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append(address)
    assert listening, "the app's listening socket was not found"
    # 0100007F is 127.0.0.1 in /proc's byte order; 0.0.0.0 or :: would be every interface.
    assert set(listening) == {"0100007F"}, listening


# The controls that the sources column may never draw over.
CONTROLS = ["#mode", "#new-chat", "#scope"]
# The controls overlapped by any visible part of the sources (each box clipped by the
# ancestors that clip it, as the browser draws it).
OVERLAPPED = """controls => {
  const rect = el => { const r = el.getBoundingClientRect();
    return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const visible = el => {
    let box = rect(el);
    for (let a = el.parentElement; a; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
        const q = rect(a);
        box = {l: Math.max(box.l, q.l), t: Math.max(box.t, q.t),
               r: Math.min(box.r, q.r), b: Math.min(box.b, q.b)};
      }
    }
    return box;
  };
  const meets = (a, b) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
  const drawn = [...document.querySelectorAll('#sources .source, #sources details')]
    .map(visible).filter(b => b.r > b.l && b.b > b.t);
  return controls.filter(c => drawn.some(d => meets(d, rect(document.querySelector(c)))));
}"""


@pytest.mark.parametrize("width", [1400, 390])
def test_the_sources_column_never_overlaps_the_controls(browser, app_url, width):
    with fresh_page(browser, app_url, width, 900) as page:
        ask(page, "What salary does the article say the harbour pilots earn in Oslo?")
        assert page.locator("#related[open]").count() == 1  # a refusal's related passages
        assert page.evaluate(OVERLAPPED, CONTROLS) == [], (width, "refusal")
        ask(page, "Why did Liu Jun return to China?")
        page.locator("#consulted summary").click()  # the passages consulted, unfolded
        assert page.evaluate(OVERLAPPED, CONTROLS) == [], (width, "consulted")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"sources-open-{width}.png"), full_page=True)


def conversation_titles(page) -> list[str]:
    return page.locator("#conversations label").all_inner_texts()


def test_conversations_persist_and_reopen_as_they_were(browser, app_url):
    with fresh_page(browser, app_url, 1400, 950) as page:
        first = ask(page, "What title was Liu Jun given at Tsinghua?")
        ask(page, "Why did he return?")
        page.click("#new-chat")
        page.wait_for_function("() => document.querySelectorAll('#chat .bot').length === 0")
        ask(page, "Why did Chen Jing return to China?")
        titles = conversation_titles(page)
        assert titles[:2] == [
            "Why did Chen Jing return to China?",
            "What title was Liu Jun given at Tsinghua?",
        ]
        # Tomorrow, in a new tab: the list is there, and a conversation reopens whole.
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        page.wait_for_function(
            "() => document.querySelectorAll('#conversations label').length >= 2"
        )
        # Other tests of this page asked the same: the newest of that title is this one's.
        page.locator("#conversations label", has_text="What title was Liu Jun").first.click()
        page.wait_for_function("() => document.querySelectorAll('#chat .bot').length === 2")
        assert page.locator("#chat .bot").nth(0).inner_text() == first
        page.locator("#chat .bot a.cite").first.click()
        page.wait_for_selector("#sources .source.selected mark")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "conversations-1400.png"), full_page=True)
        # Renamed, it keeps the new title after a reload; deleted, it is gone.
        page.fill("#conversation-title textarea, #conversation-title input", "Liu Jun's title")
        page.click("#rename-conversation")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#conversations label')]"
            '.some(l => l.innerText.includes("Liu Jun\'s title"))'
        )
        page.goto(app_url)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#conversations label')]"
            '.some(l => l.innerText.includes("Liu Jun\'s title"))'
        )
        page.locator("#conversations label", has_text="Liu Jun's title").click()
        page.wait_for_function("() => document.querySelectorAll('#chat .bot').length === 2")
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "conversations-390.png"), full_page=True)
        page.click("#delete-conversation")
        page.wait_for_function("() => document.querySelectorAll('#chat .bot').length === 0")
        assert "Liu Jun's title" not in conversation_titles(page)


IN_VIEW = """() => {
  const focus = document.querySelector('#viewer mark.focus');
  const box = focus.getBoundingClientRect(), pane = document.querySelector('#viewer')
    .getBoundingClientRect();
  return box.top >= Math.max(0, pane.top) && box.bottom <= Math.min(innerHeight, pane.bottom);
}"""


@pytest.mark.parametrize("width", [1400, 390])
def test_a_citation_opens_its_whole_document_at_the_quote(browser, app_url, width):
    with fresh_page(browser, app_url, width, 900) as page:
        ask(page, "Why did Chen Jing return to China?")
        ask(page, "What title was Liu Jun given at Tsinghua?")
        quote = page.locator("#sources .source.selected mark").inner_text()
        page.locator("#sources .source.selected a.open-doc").click()
        page.wait_for_selector("#viewer mark.focus")
        viewer = page.locator("#viewer .document-text")
        # The whole document, not a passage: its first words and its last ones.
        assert viewer.inner_text().startswith("Several prominent Chinese figures") or (
            len(viewer.inner_text()) > 5000
        )
        assert page.locator("#viewer mark.focus").inner_text().strip() == quote.strip()
        # The first answer's citations of the same document are marked too.
        assert page.locator("#viewer mark.cited").count() >= 1
        page.wait_for_function(IN_VIEW)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"viewer-{width}.png"), full_page=False)


HEADER_LINES = """() => [...document.querySelectorAll('#library th')].map(th => {
  const tops = new Set();
  const words = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  while (words.nextNode()) {
    if (!words.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(words.currentNode);
    [...range.getClientRects()].filter(r => r.width > 0)
      .forEach(r => tops.add(Math.round(r.top)));
  }
  return [th.innerText.trim(), tops.size];
}).filter(([, lines]) => lines > 0)"""
# The right edge of each cell's text, and the right edge of what the table shows.
PATH_SHOWN = """() => {
  const cells = [...document.querySelectorAll('#library td')]
    .filter(td => td.innerText.includes('/seeds/'));
  const pane = document.querySelector('#library').getBoundingClientRect();
  return cells.map(td => {
    const range = document.createRange();
    range.selectNodeContents(td);
    const right = Math.max(...[...range.getClientRects()].map(r => r.right));
    return right <= pane.right + 1;
  });
}"""


@pytest.mark.parametrize("width", [1400, 390])
def test_the_library_table_reads_whole(browser, app_url, width):
    with fresh_page(browser, app_url, width, 900) as page:
        page.get_by_role("tab", name="Library").click()
        library_shows(page, ["seeds/reverse-brain"])
        headers = page.evaluate(HEADER_LINES)  # none shown on a phone: each row is a card
        assert len(headers) == (6 if width > 640 else 0)
        assert all(lines == 1 for _, lines in headers), headers
        shown = page.evaluate(PATH_SHOWN)
        assert shown and all(shown), shown
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"library-{width}.png"), full_page=True)


def test_a_refused_file_type_is_one_clear_line(page, tmp_path):
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00 not a document")
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#upload input[type=file]", [str(program)])
    page.click("#add")
    page.wait_for_function(
        "() => (document.querySelector('#ingest-status textarea') || {}).value?.includes('exe')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    said = page.locator("#ingest-status textarea").input_value()
    assert said == "⚠ not added: setup.exe: only .txt, .md, .html, .htm, .pdf, .docx files"
    assert page.locator(".toast-body").count() == 0


def test_an_upload_keeps_its_name_shows_progress_and_counts_one_passage_as_one(page, tmp_path):
    note = tmp_path / "my notes – café 文件.txt"
    # Long enough to embed for a few seconds, so the progress can be seen.
    note.write_text(
        "\n\n".join(f"Ferry {n} leaves pier {n % 7} at {n % 12 + 1} o'clock." for n in range(400))
    )
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#upload input[type=file]", [str(note)])
    page.click("#add")
    page.wait_for_function(
        "() => document.body.innerText.includes('Embedding passages')", timeout=ANSWER_TIMEOUT_MS
    )
    page.wait_for_function(
        "() => (document.querySelector('#ingest-status textarea') || {}).value?.includes('Added')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    library_shows(page, ["uploads/my-notes-café-文件.txt"])
    small = tmp_path / "tiny.md"
    small.write_text("The tiny ferry carries four bicycles.\n")
    page.set_input_files("#upload input[type=file]", [str(small)])
    page.click("#add")
    library_shows(page, ["uploads/tiny.md"])
    page.locator("#doomed input").click()
    page.get_by_role("option", name="uploads/tiny.md").click()
    page.click("#remove")
    page.locator("#confirm-text", has_text="(1 passage)?").wait_for()
