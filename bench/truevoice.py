"""Engine check on public data: the bot's own intent pipeline on truevoice-intent `destination`.

Trains `bot.understand.build_intent_pipeline` (the same normalisation, tokenisation,
features and classifier the bot runs — not a copy) and prints accuracy and macro-F1 on
`mari_test.csv` beside the published results:

1. trained on all of `mari_train.csv`;
2. the published protocol: an 85% split of `mari_train`
   (`train_test_split(test_size=0.15, random_state=1412)`), and the spread over other seeds.

`--tune` picks C on a validation split of the training file only (never on the test file).

    python bench/truevoice.py [--data DIR] [--engine nlpo3|newmm] [--seeds 5] [--tune]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.normalise import DEFAULT_ENGINE
from bot.understand import SVM_C, build_intent_pipeline

DEFAULT_DATA = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "truevoice-intent"
)
PUBLISHED = [
    ("LinearSVC (TF-IDF), published", 0.851, 0.869),
    ("BERT (multilingual), published", 0.85, 0.87),
    ("ULMFiT (thai2fit), published", 0.843, 0.852),
]
PROTOCOL_SEED = 1412
C_GRID = (0.25, 0.5, 1.0, 2.0)


def read(path: Path) -> tuple[list[str], list[str]]:
    """`texts` → `destination`; a CSV parser, because some texts hold quoted newlines."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["texts"] for row in rows], [row["destination"] for row in rows]


def score(
    train: tuple[list[str], list[str]], test: tuple[list[str], list[str]], *, engine: str, c: float
) -> tuple[float, float, float]:
    started = time.perf_counter()
    model = build_intent_pipeline(engine=engine, c=c).fit(*train)
    predicted = model.predict(test[0])
    elapsed = time.perf_counter() - started
    return (
        accuracy_score(test[1], predicted),
        f1_score(test[1], predicted, average="macro"),
        elapsed,
    )


def tune(train: tuple[list[str], list[str]], *, engine: str) -> float:
    """C with the best macro-F1 on a 15% validation split of the training data."""
    x_fit, x_val, y_fit, y_val = train_test_split(*train, test_size=0.15, random_state=0)
    results = {}
    for c in C_GRID:
        accuracy, macro_f1, _ = score((x_fit, y_fit), (x_val, y_val), engine=engine, c=c)
        results[c] = macro_f1
        print(f"  tune C={c}: validation accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}")
    return max(results, key=results.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--seeds", type=int, default=5, help="85%% splits to train on (spread)")
    parser.add_argument("--tune", action="store_true", help="choose C on a validation split")
    args = parser.parse_args()
    if not (args.data / "mari_train.csv").exists():
        sys.exit(f"truevoice-intent not found in {args.data} (pass --data)")
    train = read(args.data / "mari_train.csv")
    test = read(args.data / "mari_test.csv")
    print(f"truevoice-intent destination: {len(train[0])} train, {len(test[0])} test; "
          f"engine {args.engine}")  # fmt: skip
    c = tune(train, engine=args.engine) if args.tune else SVM_C
    print(f"C = {c}")

    rows = []
    accuracy, macro_f1, seconds = score(train, test, engine=args.engine, c=c)
    rows.append(("bot pipeline, all of mari_train", accuracy, macro_f1))
    print(f"full train: fit+predict {seconds:.1f}s")

    runs = []
    for seed in [PROTOCOL_SEED, *range(1, args.seeds)]:
        x_train, _, y_train, _ = train_test_split(*train, test_size=0.15, random_state=seed)
        runs.append(score((x_train, y_train), test, engine=args.engine, c=c)[:2])
        print(f"85% split, seed {seed}: accuracy {runs[-1][0]:.3f}, macro-F1 {runs[-1][1]:.3f}")
    rows.append(("bot pipeline, 85% split (seed 1412)", *runs[0]))
    accuracies, f1s = [r[0] for r in runs], [r[1] for r in runs]
    spread = (
        f"bot pipeline, 85% splits, {len(runs)} seeds: mean ± sd",
        statistics.mean(accuracies),
        statistics.mean(f1s),
    )
    rows.append(spread)
    rows += PUBLISHED

    print("\n| model | accuracy | macro-F1 |\n|---|---|---|")
    for name, acc, f1 in rows:
        if name == spread[0]:
            print(f"| {name} | {acc:.3f} ± {statistics.stdev(accuracies):.3f} "
                  f"| {f1:.3f} ± {statistics.stdev(f1s):.3f} |")  # fmt: skip
        else:
            print(f"| {name} | {acc:.3f} | {f1:.3f} |")


if __name__ == "__main__":
    main()
