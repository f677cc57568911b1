"""Render the benchmarks' JSON as bench/RESULTS.md, with a picture of each scale measurement.

python bench/report.py

Each section comes from one script's latest output and names the command that produced it;
a script not run leaves its section out rather than showing old figures.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def _load(name: str) -> dict | None:
    path = OUT / name
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    """Write the Markdown tables and the charts from the latest measurements."""
    engine, ask, load = _load("engine.json"), _load("ask_latency.json"), _load("load.json")
    perf = _load("perf.json")
    lines = [
        "# Benchmark results",
        "",
        "Measured on 2 CPU cores, no GPU, by the commands named in each section (`make bench`"
        " runs them all). Timings are medians; every comparison is a ratio to a baseline "
        "measured in the same run.",
    ]
    if engine:
        _engine_chart(engine, HERE / "open_vs_size.png")
        lines += _engine(engine)
    if ask:
        lines += _ask(ask)
    if load:
        lines += _load_section(load)
    if perf:
        _chart(perf["scale"], HERE / "latency_vs_corpus.png")
        lines += _markdown(perf, None).splitlines()[4:]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")


def _engine(e: dict) -> list[str]:
    rows = [
        f"| {int(size):,} | {r['open_s_median']} s | {r['full_rebuild_s_median']} s | "
        f"{r['open_vs_rebuild']:.4f} |"
        for size, r in e["open"].items()
    ]
    a, q = e["add_one_to_largest"], e["questions"]
    largest = f"{max(int(s) for s in e['open']):,}"
    return [
        "",
        "## The engine: opening a library, adding a document, first and later questions",
        "",
        "`python bench/engine.py` (libraries of real text, the standard library's pydoc pages, "
        "with random vectors: opening never reads them).",
        "",
        "![opening a library against its size](open_vs_size.png)",
        "",
        "| passages | open (store + persisted keyword index checked) | rebuild the keyword index "
        "from every passage (what opening cost before) | ratio |",
        "|---:|---:|---:|---:|",
        *rows,
        "",
        "| what, on the library of " + largest + " passages | figure |",
        "|---|---|",
        f"| ingest one new document (embedding included) | {a['ingest_one_document_s']} s |",
        f"| the keyword index catching up with it | {a['keyword_index_catch_up_s']} s "
        f"(a full rebuild: {a['full_rebuild_s']} s) |",
        "",
        f"| what, on a library ingested for real ({q['passages']:,} passages: the article and "
        "100 pydoc pages) | figure |",
        "|---|---|",
        f"| first question on a newly added document | {q['first_question_s']} s |",
        f"| a later question on it | {q['later_question_s']} s "
        f"(first / later = **{q['first_vs_later']}x**; goal 1.5x) |",
        f"| warm answer p50 | {q['warm_answer_p50_s']} s = **{q['warm_answer_vs_embedding']}x** "
        f"one query embedding ({q['query_embedding_p50_s']} s) |",
    ]


def _ask(a: dict) -> list[str]:
    return [
        "",
        "## A fresh `rag ask`",
        "",
        f"`python bench/ask_latency.py --repeat {a['repeat']}`: a new process for each "
        "question, as a user types it.",
        "",
        "| what | median | ratio |",
        "|---|---:|---:|",
        f"| `python -c pass` (the floor of any command) | {a['python_start_s']} s | 1 |",
        f"| `rag ask` with `rag serve` running (through it) | {a['ask_with_server_s']} s | "
        f"{a['with_server_vs_python']}x |",
        f"| `rag ask` with no server (loads torch and the model) | {a['ask_in_process_s']} s | "
        f"{a['in_process_vs_python']}x ({a['in_process_vs_with_server']}x the served one) |",
    ]


def _load_section(load: dict) -> list[str]:
    b, many = load["baseline"], load["load"]
    ingest = load.get("ingest_during_load", {})
    return [
        "",
        "## Load: concurrent users while an ingest runs",
        "",
        f"`python bench/load.py`: {many['clients']} clients (separate processes, gradio_client),"
        f" {many['questions_each']} questions each, against one `rag ui` (first start "
        f"{load['first_start_s']} s), while `rag ingest` adds pydoc pages through it "
        f"(exit code {ingest.get('exit_code')}).",
        "",
        "| run | answered | errors | p50 | p95 | throughput |",
        "|---|---|---|---|---|---|",
        f"| one client alone (baseline) | {b['answered']} | {b['errors']} | {b['p50_s']} s | "
        f"{b['p95_s']} s | {b['throughput_per_s']}/s |",
        f"| {many['clients']} clients at once, ingest running | {many['answered']} | "
        f"{many['errors']} | {many['p50_s']} s | {many['p95_s']} s | "
        f"{many['throughput_per_s']}/s |",
        "",
        "Answers under load that differ from the same questions asked one by one (before or "
        f"after the ingest): **{load.get('answers_differing_from_one_by_one')}**.",
    ]


def _engine_chart(e: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [int(s) for s in e["open"]]
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(sizes, [r["open_s_median"] for r in e["open"].values()], "o-", label="open")
    axis.plot(
        sizes,
        [r["full_rebuild_s_median"] for r in e["open"].values()],
        "s--",
        label="rebuild the keyword index (before)",
    )
    axis.set_xlabel("passages in the library")
    axis.set_ylabel("seconds")
    axis.set_title("Opening a library: persisted keyword index against a rebuild")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _markdown(perf: dict, load: dict | None) -> str:
    i, q, s = perf["ingest"], perf["queries"], perf["startup"]
    seed, full, mem = perf["seed_ingest"], perf["full_corpus"], perf["memory"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` (`python bench/perf.py`, `python bench/load.py`) on "
        f"{perf['cpu_count']} CPU cores, no GPU. Timings are medians; every comparison is a "
        "ratio to a baseline measured in the same run.",
        "",
        "## Ingest",
        "",
        "| what | figure |",
        "|---|---|",
        f"| seed article, cold (fresh process, model load included) | {seed['cold_s_median']} s |",
        f"| seed article, warm (unchanged: 0 passages embedded) | {seed['warm_s_median']} s |",
        f"| {i['documents']} pydoc pages, {i['passages']} passages: raw model "
        f"(`SentenceTransformer.encode`) | {i['raw_embedding_passages_per_s']} passages/s |",
        f"| the same through our ingest (chunk, embed, write Chroma) | "
        f"{i['ours_passages_per_s']} passages/s = **{i['ours_vs_raw']:.0%} of raw** |",
        f"| the same through LlamaIndex `VectorStoreIndex.from_documents` "
        f"({i['llamaindex_nodes']} nodes) | {i['llamaindex_nodes_per_s']} nodes/s; ours is "
        f"**{i['ours_vs_llamaindex_time']}x faster** end to end |",
        f"| whole corpus: {full['documents']} documents, {full['passages']} passages | "
        f"{full['seconds']} s, {full['passages_per_s']} passages/s |",
        "",
        "## Queries (extractive mode, warm, the gold questions)",
        "",
        "| what | p50 | ratio |",
        "|---|---|---|",
        f"| one query embedding (the floor) | {q['query_embedding_p50_ms']} ms | 1 |",
        f"| LlamaIndex retriever, same embedder, top {6} | {q['llamaindex_retriever_p50_ms']} ms"
        f" | {q['llamaindex_retriever_p50_ms'] / q['query_embedding_p50_ms']:.1f}x |",
        f"| our full answer (condense, hybrid retrieval, evidence, citations) | "
        f"{q['ours_p50_ms']} ms (p95 {q['ours_p95_ms']} ms) | **{q['ours_vs_embedding']}x** "
        f"the floor, {q['ours_vs_llamaindex_retriever']}x the LlamaIndex retriever |",
        "",
        "## Scale: the article among distractors",
        "",
        "![latency against corpus size](latency_vs_corpus.png)",
        "",
        "| distractors | passages | p50 ms | p95 ms | answer acc. | cit. precision | cit. recall"
        " | refusal acc. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in perf["scale"]:
        lines.append(
            f"| {row['factor']}x the article | {row['passages']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['answer_accuracy']} | {row['citation_precision']} | "
            f"{row['citation_recall']} | {row['refusal_accuracy']} |"
        )
    lines += [
        "",
        "## Start-up and memory",
        "",
        "| what | figure |",
        "|---|---|",
        f"| `rag --help` | {s['help_s_median']} s |",
        f"| `rag ask` as a fresh process (imports, model, Chroma, keyword index, answer) | "
        f"{s['ask_s_median']} s |",
        f"| peak memory, ingest of the corpus | {mem['ingest_peak_mb']} MB |",
        f"| peak memory, `rag ask` | {mem['ask_peak_mb']} MB |",
    ]
    lines += _targets(perf)
    if load:
        b, many = load["baseline"], load["load"]
        lines += [
            "",
            "## Load: the web app under concurrent users",
            "",
            f"`python bench/load.py`: {many['clients']} clients (separate processes, "
            f"gradio_client), {many['questions_each']} questions each, against one `rag ui` "
            f"(first start "
            f"{load['first_start_s']} s, ingest included).",
            "",
            "| run | answered | errors | p50 | p95 | throughput |",
            "|---|---|---|---|---|---|",
            f"| one client alone (baseline) | {b['answered']} | {b['errors']} | {b['p50_s']} s | "
            f"{b['p95_s']} s | {b['throughput_per_s']}/s |",
            f"| {many['clients']} clients at once | {many['answered']} | {many['errors']} | "
            f"{many['p50_s']} s | {many['p95_s']} s | {many['throughput_per_s']}/s |",
        ]
    return "\n".join(lines) + "\n"


def _targets(perf: dict) -> list[str]:
    """Each target of the performance issue, met or missed, and by how much."""
    i, q, s = perf["ingest"], perf["queries"], perf["startup"]
    base, big = perf["scale"][0], perf["scale"][-1]
    rows = [
        (
            "ingest at 80% or more of raw embedding throughput",
            f"{i['ours_vs_raw']:.0%}",
            i["ours_vs_raw"] >= 0.8,
        ),
        (
            "ingest faster than LlamaIndex's default pipeline",
            f"{i['ours_vs_llamaindex_time']}x",
            i["ours_vs_llamaindex_time"] > 1,
        ),
        (
            "warm answer p50 within 3x one query embedding",
            f"{q['ours_vs_embedding']}x",
            q["ours_vs_embedding"] <= 3,
        ),
        (
            f"p50 at {big['factor']}x corpus within 2x the article alone",
            f"{big['p50_ms'] / base['p50_ms']:.2f}x",
            big["p50_ms"] <= 2 * base["p50_ms"],
        ),
    ]
    for metric in ("answer_accuracy", "citation_precision", "citation_recall"):
        drop = round(base[metric] - big[metric], 3)
        rows.append(
            (
                f"{metric} at {big['factor']}x within 0.02 of the article alone",
                f"{drop:+.3f} drop" if drop else "no drop",
                drop <= 0.02,
            )
        )
    rows.append(("a fresh `rag ask` under 5 s", f"{s['ask_s_median']} s", s["ask_s_median"] < 5))
    lines = ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in rows]
    return lines


def _chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    passages = [r["passages"] for r in rows]
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(passages, [r["p50_ms"] for r in rows], "o-", label="p50")
    axis.plot(passages, [r["p95_ms"] for r in rows], "s--", label="p95")
    for r in rows:
        axis.annotate(
            f"{r['factor']}x",
            (r["passages"], r["p50_ms"]),
            textcoords="offset points",
            xytext=(4, -12),
        )
    axis.set_xscale("log")
    axis.set_ylim(bottom=0)
    axis.set_xlabel("passages in the store (log scale)")
    axis.set_ylabel("answer latency (ms)")
    axis.set_title("Extractive answer latency against corpus size")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    main()
