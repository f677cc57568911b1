"""Write an eval run as report.json, report.md and report.png, and as a terminal table."""

from __future__ import annotations

import json
from pathlib import Path

from evals.runner import EvalRun

_RATIOS = [
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "citation_validity",
    "refusal_accuracy",
    "near_miss_refusal",
    "false_refusal_rate",
    "retrieval_hit_at_k",
    "mrr",
]


def write_reports(run: EvalRun, directory: Path, thresholds: dict) -> list[Path]:
    """Write the three report files into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "report.json", directory / "report.md", directory / "report.png"]
    data = {
        **run.metrics,
        **run.by_mode,
        "set": run.name,
        "role": run.role,
        "gold": run.gold,
        "mode": run.mode,
        "thresholds": {k: {kind: bound} for k, (kind, bound) in thresholds.items()},
        "items": [_item_json(r) for r in run.results],
    }
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(run, thresholds), encoding="utf-8")
    _chart(run, paths[2])
    return paths


def table(run: EvalRun, thresholds: dict) -> str:
    """The metrics and failed items as plain text."""
    title = f"{run.name} ({run.role}, {run.gold})" if run.name else run.gold
    lines = [
        f"== {title}: {len(run.results)} items, {_mode_counts(run)}",
        f"{'metric':<22}{'value':>10}  gate",
    ]
    for name, value in run.metrics.items():
        gate = thresholds.get(name)
        gate_text = f"{'>=' if gate[0] == 'min' else '<='} {gate[1]}" if gate else ""
        lines.append(f"{name:<22}{value:>10}  {gate_text}")
    failed = [r for r in run.results if r.failures]
    lines.append(f"\n{len(failed)} of {len(run.results)} items failed")
    for r in failed:
        lines.append(f"- {r.item.id}: {r.item.question}")
        lines.append(f"    expected: {r.item.answer}")
        lines.append(f"    got:      {r.answer.text[:300]}")
        lines.append(f"    why:      {'; '.join(r.failures)}")
    return "\n".join(lines)


def markdown(run: EvalRun, thresholds: dict) -> str:
    """The report as Markdown: a metrics table, then the failed items."""
    modes = list(run.by_mode.get("by_mode", {}))
    role = f", {run.role} set `{run.name}`" if run.name else ""
    out = [
        f"# Eval report: `{run.gold}` ({run.mode} mode requested, {len(run.results)} items{role})",
        "",
        f"Answers by the mode that actually produced them: {_mode_counts(run)}.",
        "",
        "| metric | all answers | " + " | ".join(f"{m} answers" for m in modes) + " | gate |",
        "|---|---:|" + "---:|" * len(modes) + "---|",
    ]
    for name, value in run.metrics.items():
        gate = thresholds.get(name)
        per_mode = " | ".join(str(run.by_mode["by_mode"][m].get(name, "")) for m in modes)
        out.append(
            f"| {name} | {value} | {per_mode} | "
            f"{('≥ ' if gate[0] == 'min' else '≤ ') + str(gate[1]) if gate else ''} |"
        )
    failed = [r for r in run.results if r.failures]
    out += ["", f"## Failed items ({len(failed)})", ""]
    for r in failed:
        got = r.answer.text.replace("\n", " ")[:300]
        out.append(
            f"- **{r.item.id}** {r.item.question}  \n  expected: {r.item.answer}  \n"
            f"  got: {got}  \n  why: {'; '.join(r.failures)}"
        )
    out += ["", "![metrics and latency](report.png)", ""]
    return "\n".join(out)


def summary(runs: list[EvalRun], directory: Path) -> list[Path]:
    """One table and one chart comparing the sets of a suite run."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "summary.md", directory / "summary.png"]
    columns = [*_RATIOS[:7], "latency_p50_ms"]
    out = [
        "# Eval summary",
        "",
        "Fitted sets had weights or thresholds learned or chosen on them; held-out sets never.",
        "",
        "| set | role | items | " + " | ".join(columns) + " |",
        "|---|---|---:|" + "---:|" * len(columns),
    ]
    for run in runs:
        values = " | ".join(str(run.metrics[c]) for c in columns)
        out.append(f"| {run.name} | {run.role} | {len(run.results)} | {values} |")
    paths[0].write_text("\n".join(out) + "\n\n![sets](summary.png)\n", encoding="utf-8")
    _summary_chart(runs, paths[1])
    return paths


def _summary_chart(runs: list[EvalRun], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    metrics = _RATIOS[:6]
    figure, axis = plt.subplots(figsize=(12, 4.5))
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        xs = [m + i * width for m in range(len(metrics))]
        axis.bar(xs, [run.metrics[m] for m in metrics], width, label=f"{run.name} ({run.role})")
    axis.set_xticks([m + 0.4 - width / 2 for m in range(len(metrics))])
    axis.set_xticklabels([m.replace("_", " ") for m in metrics])
    axis.set_ylim(0, 1.05)
    axis.legend(fontsize=8, ncol=2)
    axis.set_title("Eval sets: answers and citations (false refusal rate: lower is better)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _mode_counts(run: EvalRun) -> str:
    counts = run.by_mode.get("answers_by_mode", {})
    return ", ".join(f"{n} {mode}" for mode, n in counts.items()) or "no answers"


def _item_json(r) -> dict:
    return {
        "id": r.item.id,
        "question": r.item.question,
        "answerable": r.item.answerable,
        "expected": r.item.answer,
        "passed": not r.failures,
        "failures": r.failures,
        "latency_ms": round(r.latency_ms, 1),
        "answer": r.answer.to_dict(),
    }


def _chart(run: EvalRun, path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (bars, latency) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]}
    )
    values = [run.metrics[m] for m in _RATIOS]
    bars.barh(_RATIOS[::-1], values[::-1], color="#4c72b0")
    for y, v in enumerate(values[::-1]):
        bars.text(min(v + 0.01, 0.93), y, f"{v:.2f}", va="center")
    bars.set_xlim(0, 1.05)
    bars.set_title(f"{run.mode} mode, {len(run.results)} questions")
    times = [r.latency_ms for r in run.results]
    latency.hist(times, bins=20, color="#dd8452")
    latency.axvline(run.metrics["latency_p50_ms"], color="k", linestyle="--", label="p50")
    latency.axvline(run.metrics["latency_p95_ms"], color="r", linestyle=":", label="p95")
    latency.set_xlabel("latency per question (ms)")
    latency.set_ylabel("questions")
    latency.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
