"""Render bench/out/*.json as bench/RESULTS.md and bench/latency_vs_corpus.png.

python bench/report.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def main() -> None:
    """Write the Markdown tables and the chart from the latest measurements."""
    perf = json.loads((OUT / "perf.json").read_text())
    load = json.loads((OUT / "load.json").read_text()) if (OUT / "load.json").exists() else None
    _chart(perf["scale"], HERE / "latency_vs_corpus.png")
    (HERE / "RESULTS.md").write_text(_markdown(perf, load), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")


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
