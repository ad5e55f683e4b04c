"""Routing (智能分拨): a Chinese text classifier that proposes a ticket's category.

The model is a soft vote of three linear classifiers over TF-IDF of character 1-3-grams (no word
segmenter needed, robust to typos and local place names):

- scikit-learn's SGDClassifier (modified Huber loss) on the whole message;
- NB-SVM (`NaiveBayesWeightedSGD`): the same, with each n-gram scaled per category by its naive
  Bayes log-count ratio;
- SGDClassifier on the whole message plus, weighted 1.5, the n-grams of its first 40 characters
  (the subject line citizens open with).

Each member's scores are turned into probabilities by cross-validated Platt scaling
(CalibratedClassifierCV: five models, each calibrated on the fifth it did not learn from), and the
vote averages the members' probabilities. The three see the same messages differently and err on
different ones: the average separates right from wrong predictions better than any of them (see
bench/RESULTS.md). The top probability is the prediction's confidence; the hotline dispatches a
ticket automatically when it is at or above the model's threshold and otherwise queues it for the
dispatcher with the suggestion shown.

    classifier = route_classifier_train(texts=..., categories=...)   # threshold chosen by CV
    route_classifier_save(classifier)                                 # settings.VAR_DIR / hotline-model.joblib
    classifier = route_classifier_load()                              # untrained → UntrainedClassifier
    classifier.classify(["小区门口的路灯坏了一个月"])                  # [Prediction(...)]

The model file is a joblib (pickle) file: load only files the platform itself wrote.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from threadpoolctl import threadpool_limits

TARGET_PRECISION = 0.97
MODEL_FORMAT = 2  # 1: one calibrated SGD pipeline; 2: the soft vote (SoftVote)
MAX_TEXT_CHARS = 2000  # longer messages are cut: the first part says what it is about
DEFAULT_SEED = 42


class RoutingError(Exception):
    """Base of the routing errors."""


class TrainingDataError(RoutingError):
    """The labelled CSV is not usable (missing column, empty text or category, too few rows)."""


class ModelFileError(RoutingError):
    """The model file is not one this platform wrote, or is of another format."""


@dataclass(frozen=True)
class Prediction:
    """The classifier's proposal for one message.

    `category` is None when no model is trained; `alternatives` lists every category with its
    probability, best first (the first is the proposal itself)."""

    category: str | None
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """Figures of a classifier on labelled messages it did not learn from."""

    messages: int
    accuracy: float
    macro_f1: float
    auto_dispatch_share: float  # share of messages whose confidence ≥ threshold
    threshold: float  # lowest confidence threshold keeping precision ≥ TARGET_PRECISION
    per_category_f1: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Human lines, then the key=value lines the benchmarks and CI read."""
        out = [f"{self.messages} messages"]
        for category, score in self.per_category_f1.items():
            out.append(f"  {category}: F1 {score:.3f}")
        out += [
            f"accuracy={self.accuracy:.4f}",
            f"macro_f1={self.macro_f1:.4f}",
            f"auto_dispatch_share_at_97={self.auto_dispatch_share:.4f}",
            f"threshold_at_97={self.threshold:.4f}",
        ]
        return out


_MULT = np.uint64(0x9E3779B97F4A7C15)
_SEP = "\x00"


class CharNgramFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF over hashed character n-grams, vectorised with numpy (scikit-learn's char analyzer
    builds every n-gram as a Python string and classifies only ~750 messages/s; this ~3,000).

    Texts are lower-cased and cut at `max_chars`; n-grams are hashed into `n_buckets`; buckets
    seen in fewer than `min_df` training messages are dropped, the rest numbered compactly (so
    the linear model stays small); weights are sublinear tf × smoothed idf, rows L2-normalised
    (as TfidfVectorizer(sublinear_tf=True))."""

    def __init__(self, ngram_range=(1, 3), n_buckets=2**20, min_df=2, max_chars=2000):
        self.ngram_range = ngram_range
        self.n_buckets = n_buckets
        self.min_df = min_df
        self.max_chars = max_chars

    def _hashed(self, texts: Sequence[str]) -> tuple[int, np.ndarray, np.ndarray]:
        """(number of texts, row of each n-gram occurrence, its bucket)."""
        texts = [(t or "")[: self.max_chars].replace(_SEP, " ").lower() for t in texts]
        codes = np.frombuffer((_SEP.join(texts) + _SEP).encode("utf-32-le"), dtype=np.uint32).astype(
            np.uint64
        )
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        is_sep = codes == 0
        rows, buckets = [], []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            size = len(codes) - n + 1
            if size <= 0:
                continue
            key = codes[:size].copy()
            bad = is_sep[:size].copy()
            for k in range(1, n):
                key = key * np.uint64(1000003) + codes[k : k + size]
                bad |= is_sep[k : k + size]
            key = (key + np.uint64(n)) * _MULT
            key ^= key >> np.uint64(31)
            good = ~bad
            rows.append(doc[:size][good])
            buckets.append((key[good] % np.uint64(self.n_buckets)).astype(np.int64))
        return len(texts), np.concatenate(rows), np.concatenate(buckets)

    def _counts(self, n_docs, rows, columns, n_columns):
        matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(n_docs, n_columns)
        )
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1  # sublinear tf
        return matrix

    def fit(self, texts, y=None):
        n_docs, rows, buckets = self._hashed(texts)
        pairs = np.unique(rows * self.n_buckets + buckets)
        df = np.bincount(pairs % self.n_buckets, minlength=self.n_buckets)
        kept = np.flatnonzero(df >= self.min_df)
        self.column_of_ = np.full(self.n_buckets, -1, dtype=np.int32)
        self.column_of_[kept] = np.arange(len(kept), dtype=np.int32)
        self.idf_ = (np.log((1 + n_docs) / (1 + df[kept])) + 1).astype(np.float32)
        return self

    def transform(self, texts):
        n_docs, rows, buckets = self._hashed(texts)
        columns = self.column_of_[buckets]
        known = columns >= 0
        matrix = self._counts(n_docs, rows[known], columns[known], len(self.idf_))
        matrix.data *= self.idf_[matrix.indices]
        row_of = np.repeat(np.arange(n_docs), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=matrix.data.astype(np.float64) ** 2, minlength=n_docs))
        norms[norms == 0] = 1
        matrix.data /= norms[row_of].astype(np.float32)
        return matrix


class MessageFeatures(TransformerMixin, BaseEstimator):
    """Two TF-IDF blocks side by side: character n-grams of the whole message (its first
    `max_chars`), then of its head (the first `head_chars`: citizens' messages open with a subject
    line, 关于…的投诉, that says most of what they are about). Each block's rows are L2-normalised;
    a `FeatureView` chooses how much of the head a member of the vote sees."""

    def __init__(self, ngram_range=(1, 3), head_chars=40, min_df=2, max_chars=2000):
        self.ngram_range = ngram_range
        self.head_chars = head_chars
        self.min_df = min_df
        self.max_chars = max_chars

    def fit(self, texts, y=None):
        self.body_ = CharNgramFeatures(self.ngram_range, min_df=self.min_df, max_chars=self.max_chars).fit(
            texts
        )
        self.head_ = CharNgramFeatures(self.ngram_range, min_df=self.min_df, max_chars=self.head_chars).fit(
            texts
        )
        self.body_columns_ = len(self.body_.idf_)
        return self

    def transform(self, texts):
        return sp.hstack([self.body_.transform(texts), self.head_.transform(texts)], format="csr")


class FeatureView(TransformerMixin, BaseEstimator):
    """What one member of the vote sees of `MessageFeatures`: the body block, plus the head block
    times `head_weight` (0: the body alone), rows L2-normalised again."""

    def __init__(self, body_columns=0, head_weight=0.0):
        self.body_columns = body_columns
        self.head_weight = head_weight

    def fit(self, x, y=None):
        return self

    def transform(self, x):
        scale = np.ones(x.shape[1], dtype=np.float32)
        scale[self.body_columns :] = self.head_weight
        x = x @ sp.diags(scale, format="csr")
        if self.head_weight:
            row_of = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
            norms = np.sqrt(np.bincount(row_of, weights=x.data.astype(np.float64) ** 2, minlength=x.shape[0]))
            norms[norms == 0] = 1
            x.data /= norms[row_of].astype(x.data.dtype)
        else:
            x.eliminate_zeros()
        return x


class NaiveBayesWeightedSGD(ClassifierMixin, BaseEstimator):
    """NB-SVM (Wang & Manning 2012) one-vs-rest: for each category, the features are scaled by
    their naive-Bayes log-count ratio (how much more often an n-gram occurs in that category's
    messages than in the others') and a linear model (SGD, modified Huber) is fit on them. The
    scaling folds into the weights, so the result is a plain linear model: `coef_`, `intercept_`,
    `decision_function(x) = x·coef_ᵀ + intercept_`, as scikit-learn's linear classifiers."""

    def __init__(self, alpha=1e-4, smoothing=1.0, random_state=None):
        self.alpha = alpha
        self.smoothing = smoothing
        self.random_state = random_state

    def fit(self, x, y):
        from sklearn.linear_model import SGDClassifier

        y = np.asarray(y)
        self.classes_ = np.unique(y)
        present = x.copy()
        present.data[:] = 1
        coefficients, intercepts = [], []
        for category in self.classes_:
            inside = np.asarray(present[y == category].sum(axis=0)).ravel() + self.smoothing
            outside = np.asarray(present[y != category].sum(axis=0)).ravel() + self.smoothing
            ratio = np.log(inside / inside.sum()) - np.log(outside / outside.sum())
            model = SGDClassifier(loss="modified_huber", alpha=self.alpha, random_state=self.random_state)
            model.fit(x @ sp.diags(ratio, format="csr"), (y == category).astype(int))
            coefficients.append(model.coef_.ravel() * ratio)
            intercepts.append(model.intercept_[0])
        self.coef_ = np.vstack(coefficients)
        self.intercept_ = np.array(intercepts)
        return self

    def decision_function(self, x):
        return np.asarray(x @ self.coef_.T) + self.intercept_

    def predict(self, x):
        return self.classes_[self.decision_function(x).argmax(axis=1)]


# The members of the vote: (linear model, weight of the head block). Each is calibrated by
# cross-validated Platt scaling; the vote averages their probabilities.
HEAD_CHARS = 40
MEMBERS: tuple[tuple[str, float], ...] = (("sgd", 0.0), ("nb-sgd", 0.0), ("sgd", 1.5))


class SoftVote:
    """The routing model: one `MessageFeatures`, and members (each a `FeatureView` then a
    calibrated linear model) whose probabilities are averaged. `classes_` and `predict_proba`
    as a scikit-learn classifier."""

    def __init__(self, *, features: MessageFeatures, members: list[Any]):
        self.features = features
        self.members = members
        self.classes_ = members[0].classes_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        x = self.features.transform(texts)
        return np.mean([member.predict_proba(x) for member in self.members], axis=0)


def _expit(values: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(values)


def _clip(text: str) -> str:
    return (text or "")[:MAX_TEXT_CHARS]


def _linear_model(kind: str, *, seed: int) -> Any:
    from sklearn.linear_model import SGDClassifier

    if kind == "nb-sgd":
        return NaiveBayesWeightedSGD(alpha=1e-4, random_state=seed)
    return SGDClassifier(loss="modified_huber", alpha=1e-4, random_state=seed)


def _fit(texts: Sequence[str], categories: Sequence[str], *, seed: int, folds: int) -> SoftVote:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline

    # One BLAS thread: the calibration's many small L-BFGS fits are 4× slower with more.
    with threadpool_limits(limits=1):
        features = MessageFeatures(
            ngram_range=(1, 3), head_chars=HEAD_CHARS, min_df=2, max_chars=MAX_TEXT_CHARS
        )
        x = features.fit(texts).transform(texts)
        members = [
            make_pipeline(
                FeatureView(body_columns=features.body_columns_, head_weight=head_weight),
                CalibratedClassifierCV(_linear_model(kind, seed=seed), cv=folds, method="sigmoid"),
            ).fit(x, list(categories))
            for kind, head_weight in MEMBERS
        ]
    return SoftVote(features=features, members=members)


class UntrainedClassifier:
    """Stands in until a model is trained: every ticket goes to the dispatcher."""

    trained = False
    threshold = 1.0

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        return [Prediction(category=None, confidence=0.0) for _ in texts]


class RoutingClassifier:
    """A trained model, its auto-dispatch threshold and what it was trained on."""

    trained = True

    def __init__(self, *, pipeline: Any, threshold: float, trained_messages: int, trained_at: str):
        self.pipeline = pipeline
        self.threshold = threshold
        self.trained_messages = trained_messages
        self.trained_at = trained_at
        self._stacked_cache: Any = False  # built on first use

    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of probabilities, columns in the order of `categories`.

        Computes what the model's predict_proba computes (for each member of the vote, each
        calibrated copy's decision scores through its per-class sigmoid, normalised, averaged;
        then the members averaged), without scikit-learn's per-call input checks, which cost
        ~15 ms per call: one message is classified in well under a millisecond. The members'
        views fold into their weights (a member that does not see the head has zero weights
        there; one that does has them times its head weight, and its scores are divided by the
        norm its view would have given the row), so all scores come from one product. A model
        of another shape goes the general way."""
        texts = [_clip(t) for t in texts]
        stacked = self._stacked()
        if stacked is None:
            return self.pipeline.predict_proba(texts)
        weights, intercepts, slopes, offsets, members = stacked
        x = self.pipeline.features.transform(texts)
        scores = np.asarray(x @ weights)
        squares = x.data.astype(np.float64) ** 2
        row_of = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        in_head = x.indices >= self.pipeline.features.body_columns_
        body = np.bincount(row_of[~in_head], weights=squares[~in_head], minlength=x.shape[0])
        head = np.bincount(row_of[in_head], weights=squares[in_head], minlength=x.shape[0])
        classes = len(self.categories)
        total = np.zeros((len(texts), classes))
        start = 0
        for head_weight, copies in members:
            width = copies * classes
            block = scores[:, start : start + width]
            if head_weight:
                norms = np.sqrt(body + head_weight**2 * head)
                block = block / np.where(norms == 0, 1, norms)[:, None]
            block = block + intercepts[start : start + width]
            probabilities = _expit(-(slopes[start : start + width] * block + offsets[start : start + width]))
            probabilities = probabilities.reshape(-1, copies, classes)
            denominator = probabilities.sum(axis=2, keepdims=True)
            uniform = np.full_like(probabilities, 1 / classes)
            total += np.divide(probabilities, denominator, out=uniform, where=denominator != 0).mean(axis=1)
            start += width
        total /= len(members)
        total[(total > 1.0) & (total <= 1.0 + 1e-5)] = 1.0
        return total

    def _stacked(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[float, int]]] | None:
        """Every member's every calibrated copy's weights side by side (features × copies·classes,
        one contiguous matrix), their intercepts and sigmoids, and per member (head weight,
        copies); or None when the general path is needed."""
        if self._stacked_cache is not False:
            return self._stacked_cache
        classes = list(getattr(self.pipeline, "classes_", []))
        features = getattr(self.pipeline, "features", None)
        blocks, intercepts, slopes, offsets, members = [], [], [], [], []
        for member in getattr(self.pipeline, "members", None) or [None]:
            steps = getattr(member, "steps", [])
            view, calibrated = (steps[0][1], steps[-1][1]) if len(steps) == 2 else (None, None)
            copies = getattr(calibrated, "calibrated_classifiers_", [])
            if not (
                isinstance(features, MessageFeatures)
                and isinstance(view, FeatureView)
                and view.body_columns == features.body_columns_
                and len(classes) >= 3
                and list(calibrated.classes_) == classes
                and copies
                and all(self._fast_member(c, classes) for c in copies)
            ):
                self._stacked_cache = None
                return None
            scale = np.ones(len(features.body_.idf_) + len(features.head_.idf_))
            scale[view.body_columns :] = view.head_weight
            blocks += [c.estimator.coef_.T * scale[:, None] for c in copies]
            intercepts += [c.estimator.intercept_ for c in copies]
            slopes += [k.a_ for c in copies for k in c.calibrators]
            offsets += [k.b_ for c in copies for k in c.calibrators]
            members.append((float(view.head_weight), len(copies)))
        self._stacked_cache = (
            np.ascontiguousarray(np.hstack(blocks), dtype=np.float64),
            np.concatenate(intercepts).astype(np.float64),
            np.array(slopes, dtype=np.float64),
            np.array(offsets, dtype=np.float64),
            members,
        )
        return self._stacked_cache

    @staticmethod
    def _fast_member(member: Any, classes: list) -> bool:
        return (
            getattr(member, "method", None) == "sigmoid"
            and list(member.estimator.classes_) == classes
            and len(member.calibrators) == len(classes)
            and all(hasattr(calibrator, "a_") for calibrator in member.calibrators)
        )

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        """One Prediction per text, in order. Empty texts get no category and zero confidence."""
        texts = list(texts)
        if not texts:
            return []
        probabilities = self.probabilities(texts)
        categories = self.categories
        predictions = []
        for text, row in zip(texts, probabilities, strict=True):
            if not (text or "").strip():
                predictions.append(Prediction(category=None, confidence=0.0))
                continue
            order = np.argsort(-row)
            ranked = tuple((categories[i], round(float(row[i]), 4)) for i in order)
            predictions.append(
                Prediction(category=ranked[0][0], confidence=ranked[0][1], alternatives=ranked)
            )
        return predictions

    def auto_dispatch(self, prediction: Prediction) -> bool:
        return prediction.category is not None and prediction.confidence >= self.threshold


# --- training data -------------------------------------------------------------------------------


def training_rows_read(path: str | Path) -> tuple[list[str], list[str]]:
    """Read a labelled CSV (UTF-8, header with columns `text` and `category`).

    Raises TrainingDataError naming the missing column or the first bad row (1-based line)."""
    path = Path(path)
    if not path.exists():
        raise TrainingDataError(f"{path}: no such file")
    texts: list[str] = []
    categories: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = [name.strip() for name in (reader.fieldnames or [])]
        for required in ("text", "category"):
            if required not in columns:
                raise TrainingDataError(
                    f"{path}: missing column '{required}' (the header must have columns text, category; "
                    f"found: {', '.join(columns) or 'nothing'})"
                )
        reader.fieldnames = columns
        for line, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            category = (row.get("category") or "").strip()
            if not text:
                raise TrainingDataError(f"{path}, line {line}: empty text")
            if not category:
                raise TrainingDataError(f"{path}, line {line}: empty category")
            texts.append(text)
            categories.append(category)
    return texts, categories


def _check_trainable(categories: Sequence[str], folds: int) -> None:
    if not categories:
        raise TrainingDataError("no labelled messages")
    counts: dict[str, int] = {}
    for category in categories:
        counts[category] = counts.get(category, 0) + 1
    if len(counts) < 2:
        raise TrainingDataError("at least two categories are needed")
    scarce = sorted(c for c, n in counts.items() if n < folds)
    if scarce:
        raise TrainingDataError(
            f"each category needs at least {folds} messages; too few for: {', '.join(scarce)}"
        )


# --- measures -------------------------------------------------------------------------------------


def threshold_for_precision(
    confidences: Sequence[float], correct: Sequence[bool], precision: float = TARGET_PRECISION
) -> tuple[float, float]:
    """The lowest confidence threshold at which the predictions at or above it are right at least
    `precision` of the time, and the share of messages it lets through: (threshold, share).

    No threshold reaches the precision → (1.0 + tiny, 0.0): nothing is dispatched automatically."""
    confidences = np.asarray(confidences, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if len(confidences) == 0:
        return 1.0, 0.0
    order = np.argsort(-confidences, kind="stable")
    sorted_confidences = confidences[order]
    running = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    # A cut can only fall between different confidences: all equal ones are in or out together.
    last_of_tie = np.r_[sorted_confidences[1:] != sorted_confidences[:-1], True]
    good = np.flatnonzero((running >= precision) & last_of_tie)
    if len(good) == 0:
        return float(np.nextafter(1.0, 2.0)), 0.0
    cut = good.max()
    return float(sorted_confidences[cut]), (cut + 1) / len(order)


def evaluation_compute(
    *, categories: Sequence[str], predicted: Sequence[str | None], confidences: Sequence[float]
) -> Evaluation:
    from sklearn.metrics import accuracy_score, f1_score

    truth = list(categories)
    guess = [p if p is not None else "" for p in predicted]
    labels = sorted(set(truth))
    per_category = f1_score(truth, guess, labels=labels, average=None, zero_division=0)
    threshold, share = threshold_for_precision(
        confidences, [t == g for t, g in zip(truth, guess, strict=True)]
    )
    return Evaluation(
        messages=len(truth),
        accuracy=float(accuracy_score(truth, guess)),
        macro_f1=float(np.mean(per_category)),
        auto_dispatch_share=share,
        threshold=threshold,
        per_category_f1={label: float(score) for label, score in zip(labels, per_category, strict=True)},
    )


def out_of_fold_predictions(
    *, texts: Sequence[str], categories: Sequence[str], folds: int = 5, seed: int = DEFAULT_SEED
) -> tuple[list[str], np.ndarray]:
    """Stratified k-fold: each message predicted by a model that never saw it.
    Returns (predicted categories, confidences)."""
    from sklearn.model_selection import StratifiedKFold

    _check_trainable(categories, folds)
    x = np.array([_clip(t) for t in texts], dtype=object)
    y = np.array(categories, dtype=object)
    predicted = np.empty(len(y), dtype=object)
    confidences = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        pipeline = _fit(x[train], y[train], seed=seed, folds=_inner_folds(y[train], 5))
        probabilities = pipeline.predict_proba(x[test])
        predicted[test] = pipeline.classes_[probabilities.argmax(axis=1)]
        confidences[test] = probabilities.max(axis=1)
    return [str(p) for p in predicted], confidences


def _inner_folds(categories: Sequence[str], wanted: int) -> int:
    smallest = min(list(categories).count(c) for c in set(categories))
    return max(2, min(wanted, smallest))


def route_classifier_cross_validate(
    *, texts: Sequence[str], categories: Sequence[str], folds: int = 5, seed: int = DEFAULT_SEED
) -> Evaluation:
    """Stratified k-fold cross-validation on labelled messages (the saved model is not touched)."""
    predicted, confidences = out_of_fold_predictions(
        texts=texts, categories=categories, folds=folds, seed=seed
    )
    return evaluation_compute(categories=categories, predicted=predicted, confidences=confidences)


def route_classifier_evaluate(
    *, classifier: RoutingClassifier | UntrainedClassifier, texts: Sequence[str], categories: Sequence[str]
) -> Evaluation:
    """Figures of a trained classifier on labelled messages it has not seen."""
    predictions = classifier.classify(texts)
    return evaluation_compute(
        categories=categories,
        predicted=[p.category for p in predictions],
        confidences=[p.confidence for p in predictions],
    )


# --- training, saving, loading --------------------------------------------------------------------


def route_classifier_train(
    *, texts: Sequence[str], categories: Sequence[str], folds: int = 5, seed: int = DEFAULT_SEED
) -> RoutingClassifier:
    """Train on all labelled messages. The auto-dispatch threshold is the lowest confidence that
    reaches 97% precision on out-of-fold predictions of the same messages (never on seen ones)."""
    _check_trainable(categories, 2)
    folds = _inner_folds(categories, folds)
    predicted, confidences = out_of_fold_predictions(
        texts=texts, categories=categories, folds=folds, seed=seed
    )
    threshold, _share = threshold_for_precision(
        confidences, [p == c for p, c in zip(predicted, categories, strict=True)]
    )
    pipeline = _fit([_clip(t) for t in texts], list(categories), seed=seed, folds=folds)
    return RoutingClassifier(
        pipeline=pipeline,
        threshold=threshold,
        trained_messages=len(texts),
        trained_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )


def route_model_path() -> Path:
    """Where the platform keeps its routing model (under YIWANG_VAR_DIR)."""
    from django.conf import settings

    return Path(settings.VAR_DIR) / "hotline-model.joblib"


def route_classifier_save(classifier: RoutingClassifier, path: str | Path | None = None) -> Path:
    """Write the model file (atomically: a half-written file never replaces a good one)."""
    import sklearn
    from joblib import dump

    path = Path(path) if path else route_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    dump(
        {
            "format": MODEL_FORMAT,
            "sklearn": sklearn.__version__,
            "pipeline": classifier.pipeline,
            "threshold": classifier.threshold,
            "trained_messages": classifier.trained_messages,
            "trained_at": classifier.trained_at,
        },
        partial,
        compress=3,
    )
    partial.replace(path)
    return path


def route_classifier_load(path: str | Path | None = None) -> RoutingClassifier | UntrainedClassifier:
    """The trained classifier, or an UntrainedClassifier when no model file exists yet.

    The file is unpickled: load only model files this platform wrote (never an uploaded one)."""
    import sklearn
    from joblib import load

    path = Path(path) if path else route_model_path()
    if not path.exists():
        return UntrainedClassifier()
    try:
        stored = load(path)
    except Exception as error:  # a truncated or foreign file
        raise ModelFileError(f"{path}: not a routing model file ({error})") from error
    if not isinstance(stored, dict) or "format" not in stored:
        raise ModelFileError(f"{path}: not a routing model file")
    if stored["format"] != MODEL_FORMAT:
        raise ModelFileError(
            f"{path}: a routing model of format {stored['format']}, this platform reads format {MODEL_FORMAT}; "
            "train it again (`yiwang hotline train --file CSV`)"
        )
    if stored.get("sklearn") != sklearn.__version__:
        raise ModelFileError(
            f"{path}: trained with scikit-learn {stored.get('sklearn')}, this is {sklearn.__version__}; "
            "train it again (`yiwang hotline train --file CSV`)"
        )
    return RoutingClassifier(
        pipeline=stored["pipeline"],
        threshold=float(stored["threshold"]),
        trained_messages=int(stored["trained_messages"]),
        trained_at=str(stored["trained_at"]),
    )
