"""`rag`: the command line, and the one place that composes ingest, answering, UI and evals."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from functools import partial
from pathlib import Path

from rag.errors import InvalidInput, RagError

MODE_HELP = "extractive (quotes, offline) or llm (written by an LLM, verified)"
DOC_HELP = "answer only from this document (name, path or id; repeat for several)"
INSECURE_HELP = "allow a non-loopback --host without sign-in (a warning on every start)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = _parser().parse_args(argv)
    # A server stopped with SIGTERM (a service manager, `kill`) cleans up as on Ctrl-C: it
    # lets its library go and takes its server.json with it.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return args.run(args)
    except InvalidInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Answer questions about documents, citing the exact passages."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="chunk and embed files into the store")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: seeds/)")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(run=_ingest)

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    ask.add_argument("--mode", choices=["extractive", "llm"], default=None, help=MODE_HELP)
    ask.add_argument("--doc", action="append", default=[], metavar="NAME|PATH", help=DOC_HELP)
    ask.set_defaults(run=_ask)

    chat = commands.add_parser("chat", help="chat in the terminal (follow-up questions work)")
    chat.add_argument("--mode", choices=["extractive", "llm"], default=None, help=MODE_HELP)
    chat.add_argument("--doc", action="append", default=[], metavar="NAME|PATH", help=DOC_HELP)
    chat.set_defaults(run=_chat)

    docs = commands.add_parser("docs", help="list or remove the documents in the library")
    docs_commands = docs.add_subparsers(dest="docs_command", required=True)
    listing = docs_commands.add_parser("list", help="name, passages, characters, when, path")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(run=_docs_list)
    removal = docs_commands.add_parser("remove", help="take documents out of the library")
    removal.add_argument("documents", nargs="+", metavar="NAME|PATH")
    removal.set_defaults(run=_docs_remove)

    evaluate = commands.add_parser(
        "eval",
        help="run gold questions and measure accuracy",
        description="With no --gold: every eval set (or those named by --set), each on its own "
        "documents; held-out sets are gated, fitted sets only reported.",
    )
    evaluate.add_argument(
        "--gold", type=Path, default=None, help="a gold JSONL file, run on the current store"
    )
    evaluate.add_argument(
        "--set", action="append", dest="sets", default=None, help="an eval set by name (repeat)"
    )
    evaluate.add_argument("--mode", choices=["extractive", "llm"], default=None)
    evaluate.add_argument("--report", type=Path, default=None, help="folder for report files")
    evaluate.add_argument("--k", type=int, default=None, help="passages retrieved per question")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.add_argument(
        "--no-gate", action="store_true", help="measure and report only; never exit 1"
    )
    from evals.runner import DEFAULT_THRESHOLDS  # noqa: PLC0415 - light, no heavy imports

    for name, (kind, bound) in DEFAULT_THRESHOLDS.items():
        flag = f"--{kind}-{name.replace('_', '-')}"
        evaluate.add_argument(
            flag,
            type=float,
            default=None,
            dest=f"gate_{name}",
            help=f"fail when {name} is {'below' if kind == 'min' else 'above'} "
            f"this (default for --gold: {bound}; for a set: its own gate)",
        )
    evaluate.set_defaults(run=_eval)

    serve = commands.add_parser(
        "serve", help="serve an OpenAI-compatible API (rag ask and rag chat use it when running)"
    )
    serve.add_argument("--host", default=None, help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 7861)")
    serve.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    serve.set_defaults(run=_serve)

    ui = commands.add_parser("ui", help="serve the chat page")
    ui.add_argument("--host", default=None, help="address (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=None, help="port (default 7860)")
    ui.add_argument("--insecure", action="store_true", help=INSECURE_HELP)

    users = commands.add_parser("users", help="who may sign in to the page and the API")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    adding = users_commands.add_parser("add", help="add or replace a user (prompts for a password)")
    adding.add_argument("name")
    adding.add_argument("--role", choices=["reader", "editor"], required=True)
    adding.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    adding.set_defaults(run=_users_add)
    users_commands.add_parser("list", help="names and roles").set_defaults(run=_users_list)
    dropping = users_commands.add_parser("remove", help="take a user out")
    dropping.add_argument("name")
    dropping.set_defaults(run=_users_remove)
    ui.set_defaults(run=_ui)
    return parser


def _settings():
    from pydantic import ValidationError  # noqa: PLC0415

    from rag.settings import Settings  # noqa: PLC0415

    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = "RAG_" + "_".join(str(part) for part in first["loc"]).upper()
        raise InvalidInput(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None


def _ingest(args) -> int:
    settings = _settings()
    paths = args.paths or [settings.seeds_dir]
    owner = _owner(settings)
    if owner:
        from ui.client import remote_ingest  # noqa: PLC0415

        print(f"ingesting through the rag server at {owner.url}", file=sys.stderr)
        report = remote_ingest(owner, paths, _user())
        print(report["summary"])
        for line in report["skipped"]:
            print(f"skipped {line}")
        return 0
    from ingest.pipeline import ingest  # noqa: PLC0415

    report = ingest(paths, settings, progress=not args.quiet)
    print(report.summary())
    for line in report.skipped:
        print(f"skipped {line}")
    return 0


def _owner(settings):
    """The running server that owns this embedded library, which every change must go
    through (ui/owner.py); None with a Chroma server, which everyone shares directly."""
    if settings.chroma_url:
        return None
    from ui.client import find_server  # noqa: PLC0415 - standard library only

    server = find_server(settings.model_copy(update={"server_url": None}), say=_note)
    return server if server and server.owns_library else None


def _note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _user() -> str:
    from rag.access.audit import command_line_user  # noqa: PLC0415

    return command_line_user()


def _chatbot(settings):
    """A Chatbot over a store that has something in it (the seeds, ingested on first use)."""
    from rag.engine import Chatbot  # noqa: PLC0415

    bot = Chatbot(settings)
    _warn_of_legacy(bot.store)
    if bot.retriever.is_empty():
        from ingest.pipeline import ingest  # noqa: PLC0415

        print(f"The store is empty: ingesting {settings.seeds_dir} first.", file=sys.stderr)
        report = ingest([settings.seeds_dir], settings, store=bot.store)
        print(report.summary(), file=sys.stderr)
        bot.retriever.refresh()
    return bot


def _server(settings) -> str | None:
    """A running `rag serve` to answer through, if one answers (see ui/client.py)."""
    from ui.client import find_server  # noqa: PLC0415 - standard library only

    server = find_server(settings, say=_note)
    if settings.server_url and not server:
        print(
            f"note: no rag server answers at {settings.server_url}; answering here.",
            file=sys.stderr,
        )
    return server


def _warn_of_legacy(store) -> None:
    """Say so when the data directory holds documents this version no longer reads."""
    old = store.legacy_collections()
    if old:
        print(
            f"note: {', '.join(old)} holds documents ingested by an older version of rag, "
            "which this one does not read; run `rag ingest` on their files again.",
            file=sys.stderr,
        )


def _scope(bot, wanted: list[str]) -> frozenset[str]:
    """Ids of the documents named by --doc (none named: the whole library)."""
    if not wanted:
        return frozenset()
    from rag.library.catalog import scope_of  # noqa: PLC0415

    return scope_of(bot.store.documents(), wanted)


def _docs_list(args) -> int:
    from dataclasses import asdict  # noqa: PLC0415

    from rag.library.catalog import table  # noqa: PLC0415

    settings = _settings()
    owner = _owner(settings)
    if owner:
        from ui.client import remote_documents  # noqa: PLC0415

        documents = remote_documents(owner)
    else:
        from rag.library.store import PassageStore  # noqa: PLC0415

        store = PassageStore(settings)
        _warn_of_legacy(store)
        documents = store.documents()
    if args.json:
        print(json.dumps([asdict(d) for d in documents], ensure_ascii=False, indent=2))
    elif documents:
        print(table(documents))
    else:
        print("The library is empty: add documents with `rag ingest PATH`.")
    return 0


def _docs_remove(args) -> int:
    from ingest.pipeline import remove  # noqa: PLC0415
    from rag.library.catalog import named_documents  # noqa: PLC0415
    from rag.library.store import PassageStore  # noqa: PLC0415

    settings = _settings()
    owner = _owner(settings)
    if owner:
        from ui.client import remote_remove  # noqa: PLC0415

        chosen = remote_remove(owner, args.documents, _user())
    else:
        store = PassageStore(settings)
        library = store.documents()
        chosen = named_documents(library, args.documents)
        remove(chosen, settings, store)
    for document in chosen:
        print(f"removed {document.name} ({document.passages} passages) from {document.path}")
    return 0


def _ask(args) -> int:
    from rag.engine import validate_question  # noqa: PLC0415

    settings = _settings()
    validate_question(args.question, settings)  # fail fast, before any model loads
    server = _server(settings)
    if server:
        from ui.client import remote_answer  # noqa: PLC0415

        answer = remote_answer(server, settings, args.question, [], args.mode, args.doc)
    else:
        bot = _chatbot(settings)
        answer = bot.answer(
            args.question,
            mode=args.mode,
            on_token=None if args.json else _show_draft,
            scope=_scope(bot, args.doc),
        )
        if sys.stderr.isatty():
            # Not started behind the user's back: a hidden engine would own the library and
            # keep `rag ui` or `rag serve` from starting (README: One engine per library).
            _note(
                "(answered in this process; `rag serve` keeps the engine warm: ~0.3 s a question)"
            )
    if answer.mode == "llm" or answer.draft:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_answer(answer))
    return 0


def _show_draft(piece: str) -> None:
    """Stream the LLM's draft to stderr; the verified answer follows on stdout."""
    sys.stderr.write(piece)
    sys.stderr.flush()


def render_answer(answer) -> str:
    """The answer, any notice, its numbered quotes and what verification removed."""
    lines = [answer.text]
    if answer.notice:
        lines.append(f"({answer.notice})")
    if answer.citations:
        lines.append("")
    lines += [c.line() for c in answer.citations]
    if answer.refused and answer.passages:
        lines.append("\nRelated passages (not cited):")
        lines += [f"- {p.source}, characters {p.start}-{p.end}" for p in answer.passages[:3]]
    if answer.removed:
        lines.append(f"\nVerification removed {len(answer.removed)} sentence(s):")
        lines += [f"- {r.sentence[:120]} ({r.reason})" for r in answer.removed]
    return "\n".join(lines)


def _chat(args) -> int:
    from ui.client import remote_answer  # noqa: PLC0415

    settings = _settings()
    server = _server(settings)
    if server:
        answer_one = partial(remote_answer, server, settings, mode=args.mode, documents=args.doc)
    else:
        bot = _chatbot(settings)
        scope = _scope(bot, args.doc)
        answer_one = partial(bot.answer, mode=args.mode, on_token=_show_draft, scope=scope)
    history: list[str] = []
    print("Ask about the documents; an empty line or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            answer = answer_one(question, history)
        except InvalidInput as error:
            print(f"error: {error}")
            continue
        if answer.standalone_question != question:
            print(f"(understood as: {answer.standalone_question})")
        print(render_answer(answer), end="\n\n")
        history.append(answer.standalone_question)


def _eval(args) -> int:
    from evals.report import summary, table, write_reports  # noqa: PLC0415
    from evals.runner import DEFAULT_THRESHOLDS, run_eval, run_set  # noqa: PLC0415
    from evals.suite import SETS  # noqa: PLC0415

    overrides = {k: v for k, v in (("mode", args.mode), ("top_k", args.k)) if v is not None}
    settings = _settings().model_copy(update=overrides)
    flags = {
        name: (kind, getattr(args, f"gate_{name}"))
        for name, (kind, _) in DEFAULT_THRESHOLDS.items()
        if getattr(args, f"gate_{name}") is not None
    }
    if args.gold:
        runs = [(run_eval(args.gold, _chatbot(settings), not args.quiet), DEFAULT_THRESHOLDS)]
    else:
        unknown = sorted(set(args.sets or []) - set(SETS))
        if unknown:
            raise RagError(f"no eval set named {', '.join(unknown)}; sets: {', '.join(SETS)}")
        chosen = [SETS[name] for name in args.sets or SETS]
        runs = [(run_set(s, settings, not args.quiet), s.thresholds) for s in chosen]
    failed = []
    for run, gate in runs:
        thresholds = {**gate, **flags} if gate else {}
        print(table(run, thresholds))
        if args.report:
            folder = args.report if args.gold else args.report / run.name
            for path in write_reports(run, folder, thresholds):
                print(f"wrote {path}")
        prefix = f"{run.name}: " if run.name else ""
        failed += [prefix + line for line in run.failed_thresholds(thresholds)]
    if args.report and not args.gold:
        for path in summary([run for run, _ in runs], args.report):
            print(f"wrote {path}")
    for line in failed:
        print(f"{'below gate' if args.no_gate else 'FAIL'}: {line}", file=sys.stderr)
    return 1 if failed and not args.no_gate else 0


def _serve(args) -> int:
    from ui.api import serve  # noqa: PLC0415

    settings = _settings()
    host = args.host or settings.api_host
    serve(settings, host=host, port=args.port or settings.api_port, insecure=args.insecure)
    return 0


def _users(settings):
    from rag.access.users import Users  # noqa: PLC0415

    return Users(settings.users_file)


def _users_add(args) -> int:
    import getpass  # noqa: PLC0415

    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise InvalidInput("the two passwords differ; nothing changed")
    key = _users(_settings()).add(args.name, args.role, password)
    print(f"{args.name} can sign in as {args.role}.")
    print(f"API key for rag serve (shown only now): {key}")
    return 0


def _users_list(args) -> int:
    for user in _users(_settings()).all().values():
        print(f"{user.name}\t{user.role}")
    return 0


def _users_remove(args) -> int:
    from ui.conversations import Conversations  # noqa: PLC0415

    settings = _settings()
    _users(settings).remove(args.name)
    # The person is gone, and so are their conversations: someone added later under the same
    # name must not find them.
    dropped = Conversations(settings.home, args.name).drop_all()
    print(f"removed {args.name} and {dropped} conversation{'' if dropped == 1 else 's'}")
    return 0


def _ui(args) -> int:
    from ui.app import serve  # noqa: PLC0415

    settings = _settings()
    host = args.host or settings.ui_host
    serve(settings, host=host, port=args.port or settings.ui_port, insecure=args.insecure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
