"""Write the evaluation report: a Markdown summary, the raw JSON and a confusion-matrix picture."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bot.evaluate import TARGETS, Case, HeldOutReport, IntentReport, count_tags, intent_agreement

CATEGORY_NAMES = {
    "in_scope": "In-scope questions answered correctly",
    "out_of_scope": "Out-of-scope questions refused",
    "follow_up": "Follow-up turns right",
}


def summarise(intents: IntentReport, held_out: HeldOutReport, cases: Sequence[Case]) -> str:
    """The figures `evaluate` prints and README quotes."""
    lines = [
        "## Held-out test set",
        "",
        "| measure | result | target |",
        "|---|---|---|",
    ]
    for category, target in TARGETS.items():
        correct, total = held_out.score(category)
        lines.append(
            f"| {CATEGORY_NAMES[category]} | {correct}/{total} = {held_out.rate(category):.1%} "
            f"| ≥ {target:.0%} |"
        )
    lines += [
        f"| Intent agreement (diagnostic) | {intent_agreement(held_out, cases):.1%} | |",
        "",
        f"Cases: {len(cases)}; tags: "
        + ", ".join(f"{tag} {n}" for tag, n in sorted(count_tags(cases).items())),
        "",
        "## Intent model, cross-validated on intents/",
        "",
        f"Accuracy {intents.accuracy:.3f}, macro-F1 {intents.macro_f1:.3f}; "
        f"per fold: {', '.join(f'{a:.3f}' for a in intents.fold_accuracies)}",
        "",
        "| intent | precision | recall | F1 | examples |",
        "|---|---|---|---|---|",
    ]
    for name, row in intents.per_intent.items():
        lines.append(
            f"| {name} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1']:.2f} "
            f"| {row['support']} |"
        )
    lines += ["", "Most confused (true → predicted: count): " + "; ".join(
        f"{a} → {b}: {n}" for a, b, n in intents.confused_pairs[:6]
    )]  # fmt: skip
    return "\n".join(lines)


def write_report(
    out: Path, *, intents: IntentReport, held_out: HeldOutReport, cases: Sequence[Case]
) -> str:
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(intents, held_out, cases)
    failures = [
        f"- `{r.case}` turn {r.turn}: {r.text!r} → {'; '.join(r.problems)}"
        for r in held_out.failures
    ]
    (out / "report.md").write_text(
        "# Evaluation report\n\n" + summary + "\n\n## Failures\n\n" + "\n".join(failures) + "\n",
        encoding="utf-8",
    )
    (out / "report.json").write_text(
        json.dumps(
            {
                "intents": asdict(intents),
                "held_out": {
                    category: {
                        "correct": held_out.score(category)[0],
                        "total": held_out.score(category)[1],
                    }
                    for category in TARGETS
                },
                "results": [asdict(r) for r in held_out.results],
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    plot_confusion(intents, out / "confusion.png")
    return summary


def plot_confusion(intents: IntentReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen on servers and CI
    import matplotlib.pyplot as plt

    size = max(6, len(intents.labels) * 0.55)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(intents.confusion, cmap="Blues")
    axes.set_xticks(range(len(intents.labels)), intents.labels, rotation=90)
    axes.set_yticks(range(len(intents.labels)), intents.labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for i, row in enumerate(intents.confusion):
        for j, value in enumerate(row):
            if value:
                axes.text(j, i, str(value), ha="center", va="center", fontsize=7)
    axes.set_title("Intent confusion (cross-validated)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
