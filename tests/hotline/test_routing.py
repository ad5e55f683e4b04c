"""The routing classifier (智能分拨): training, classifying, the untrained path, the model file,
the CSV checks, and the `yiwang hotline` command on a fixed split of the real shared data."""

from __future__ import annotations

import csv
import random
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.shared_data import shared_file
from yiwang.hotline import routing
from yiwang.hotline.routing import (
    ModelFileError,
    Prediction,
    TrainingDataError,
    UntrainedClassifier,
    route_classifier_load,
    route_classifier_save,
    route_classifier_train,
    threshold_for_precision,
    training_rows_read,
)
from yiwang.hotline.seed import CATEGORIES as DEMO_CATEGORIES

DEMO_CORPUS = Path(routing.__file__).parent / "data" / "demo_corpus.csv"
# The demo city's categories and the city department each goes to by default (hotline/seed.py).
CATEGORIES = tuple(name for _code, name, _description, _department in DEMO_CATEGORIES)
KEY_LINES = ("accuracy=", "macro_f1=", "auto_dispatch_share_at_97=", "threshold_at_97=")


@pytest.fixture(scope="module")
def demo_classifier():
    texts, categories = training_rows_read(DEMO_CORPUS)
    return route_classifier_train(texts=texts, categories=categories)


def _write_csv(path: Path, rows, header=("text", "category")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_demo_corpus_covers_the_seven_categories():
    texts, categories = training_rows_read(DEMO_CORPUS)
    assert set(categories) == set(CATEGORIES)
    assert len(texts) >= 200
    assert all(categories.count(category) >= 20 for category in CATEGORIES)


def test_every_category_suggests_a_real_department():
    departments = Path(routing.__file__).parents[1] / "core" / "data" / "departments_3603.csv"
    with departments.open(encoding="utf-8") as handle:
        codes = {row["code"] for row in csv.DictReader(handle)}
    assert {department for *_rest, department in DEMO_CATEGORIES} <= codes


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我们小区楼顶漏水，物业不管，请住建部门处理", "城乡建设"),
        ("包工头拖欠我们三个月工资不发", "劳动和社会保障"),
        ("学校强制学生买校服，价格太贵", "教育文体"),
        ("在商场买的电视机坏了，商家不给退货", "商贸旅游"),
        ("医院收费不透明，医生态度很差", "卫生计生"),
        ("工厂晚上偷排废水，河里的鱼都死了", "环境保护"),
        ("出租车司机拒载还乱收费", "交通运输"),
    ],
)
def test_trained_on_the_demo_corpus_it_routes_obvious_messages(demo_classifier, text, category):
    (prediction,) = demo_classifier.classify([text])
    assert prediction.category == category
    assert 0 < prediction.confidence <= 1
    assert [name for name, _ in prediction.alternatives][0] == category
    assert sorted(name for name, _ in prediction.alternatives) == sorted(CATEGORIES)
    probabilities = [probability for _, probability in prediction.alternatives]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1, abs=0.01)


def test_the_fast_probabilities_are_scikit_learns(demo_classifier):
    texts, _ = training_rows_read(DEMO_CORPUS)
    texts = texts[:50] + ["萍乡", "A", "路灯坏了" * 300]
    fast = demo_classifier.probabilities(texts)
    assert fast.shape == (len(texts), len(CATEGORIES))
    assert np.allclose(fast, demo_classifier.pipeline.predict_proba(texts), atol=1e-6)


def test_empty_text_gets_no_category(demo_classifier):
    empty, filled = demo_classifier.classify(["  ", "公交车不按时发车"])
    assert empty == Prediction(category=None, confidence=0.0)
    assert not demo_classifier.auto_dispatch(empty)
    assert filled.category == "交通运输"
    assert demo_classifier.classify([]) == []


def test_untrained_classifier_sends_every_ticket_to_the_dispatcher(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    classifier = route_classifier_load()
    assert isinstance(classifier, UntrainedClassifier)
    assert not classifier.trained
    predictions = classifier.classify(["路灯坏了", "工资拖欠"])
    assert predictions == [Prediction(category=None, confidence=0.0)] * 2


def test_the_model_round_trips_through_its_file(demo_classifier, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    path = route_classifier_save(demo_classifier)
    assert path == tmp_path / "hotline-model.joblib"
    assert not list(tmp_path.glob("*.partial"))
    loaded = route_classifier_load()
    assert loaded.trained
    assert loaded.threshold == demo_classifier.threshold
    assert loaded.trained_messages == demo_classifier.trained_messages
    texts = ["小区门口的下水道堵了", "驾校收了钱不安排考试", "餐馆油烟扰民"]
    assert loaded.classify(texts) == demo_classifier.classify(texts)


def test_a_foreign_model_file_is_refused(tmp_path):
    path = tmp_path / "model.joblib"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a routing model file"):
        route_classifier_load(path)


def test_a_model_of_another_scikit_learn_version_is_refused(tmp_path):
    from joblib import dump

    path = tmp_path / "model.joblib"
    dump({"format": routing.MODEL_FORMAT, "sklearn": "0.1", "pipeline": None}, path)
    with pytest.raises(ModelFileError, match="trained with scikit-learn 0.1"):
        route_classifier_load(path)


def test_a_model_file_of_an_older_format_is_refused_clearly(tmp_path):
    import sklearn
    from joblib import dump

    path = tmp_path / "model.joblib"
    dump({"format": 1, "sklearn": sklearn.__version__, "pipeline": None, "threshold": 0.5}, path)
    with pytest.raises(
        ModelFileError, match="a routing model of format 1, this platform reads format 2; train it again"
    ):
        route_classifier_load(path)


def test_training_csv_must_name_both_columns(tmp_path):
    path = _write_csv(tmp_path / "bad.csv", [("路灯坏了", "城乡建设")], header=("text", "label"))
    with pytest.raises(TrainingDataError, match="missing column 'category'"):
        training_rows_read(path)
    path = _write_csv(tmp_path / "bad2.csv", [("路灯坏了", "城乡建设")], header=("message", "category"))
    with pytest.raises(TrainingDataError, match="missing column 'text'"):
        training_rows_read(path)


def test_training_csv_names_the_bad_row(tmp_path):
    path = _write_csv(tmp_path / "bad.csv", [("路灯坏了", "城乡建设"), ("", "交通运输")])
    with pytest.raises(TrainingDataError, match="line 3: empty text"):
        training_rows_read(path)
    path = _write_csv(tmp_path / "bad2.csv", [("路灯坏了", "城乡建设"), ("公交晚点", " ")])
    with pytest.raises(TrainingDataError, match="line 3: empty category"):
        training_rows_read(path)


def test_training_needs_enough_messages_per_category():
    with pytest.raises(TrainingDataError, match="at least two categories"):
        route_classifier_train(texts=["路灯坏了"] * 5, categories=["城乡建设"] * 5)
    with pytest.raises(TrainingDataError, match="too few for: 交通运输"):
        route_classifier_train(
            texts=["路灯坏了"] * 5 + ["公交晚点"], categories=["城乡建设"] * 5 + ["交通运输"]
        )


def test_threshold_is_the_lowest_confidence_keeping_the_precision():
    confidences = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    correct = [True, True, True, True, False, True]
    assert threshold_for_precision(confidences, correct, precision=0.97) == (0.8, 4 / 6)
    assert threshold_for_precision(confidences, correct, precision=0.8) == (0.6, 1.0)
    threshold, share = threshold_for_precision([0.9, 0.8], [False, False])
    assert share == 0 and threshold > 1
    # equal confidences are dispatched together: no cut between them
    assert threshold_for_precision([0.9, 0.9, 0.5], [True, False, True], precision=0.97)[1] == 0


def test_train_command_errors_are_clear(tmp_path):
    path = _write_csv(tmp_path / "bad.csv", [("路灯坏了", "城乡建设")], header=("text", "label"))
    with pytest.raises(CommandError, match="missing column 'category'"):
        call_command("hotline", "train", "--file", str(path), "--model", str(tmp_path / "m.joblib"))
    with pytest.raises(CommandError, match="no trained model"):
        call_command(
            "hotline", "evaluate", "--file", str(DEMO_CORPUS), "--model", str(tmp_path / "none.joblib")
        )


def _fixed_split(tmp_path: Path) -> tuple[Path, Path]:
    """80/20 split of the shared labelled messages, stratified, fixed seed (files outside the repo)."""
    texts, categories = training_rows_read(shared_file("hotline-messages-train.csv"))
    by_category: dict[str, list[str]] = {}
    for text, category in zip(texts, categories, strict=True):
        by_category.setdefault(category, []).append(text)
    rng = random.Random(20260101)
    train, test = [], []
    for category, items in sorted(by_category.items()):
        items = items[:]
        rng.shuffle(items)
        cut = len(items) // 5
        test += [(text, category) for text in items[:cut]]
        train += [(text, category) for text in items[cut:]]
    return _write_csv(tmp_path / "train.csv", train), _write_csv(tmp_path / "test.csv", test)


def test_train_then_evaluate_on_a_fixed_split_of_the_real_messages(tmp_path):
    train, test = _fixed_split(tmp_path)
    model = tmp_path / "model.joblib"
    out = StringIO()
    call_command("hotline", "train", "--file", str(train), "--model", str(model), stdout=out)
    assert "model written to" in out.getvalue()
    assert model.exists()
    out = StringIO()
    call_command("hotline", "evaluate", "--file", str(test), "--model", str(model), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert tuple(line.split("=")[0] + "=" for line in lines[-4:]) == KEY_LINES
    figures = {key: float(value) for key, value in (line.split("=") for line in lines[-4:])}
    # A floor well under the goal (macro-F1 0.92, 80% auto-dispatched) and under what the model
    # measures on this split (macro-F1 0.90, accuracy 0.90, 55% at 97% on 402 messages): catches
    # regressions, not noise.
    assert figures["macro_f1"] >= 0.85
    assert figures["accuracy"] >= 0.85
    assert figures["auto_dispatch_share_at_97"] >= 0.40
    assert 0 < figures["threshold_at_97"] <= 1


def test_evaluate_cross_validates_the_demo_corpus(tmp_path):
    out = StringIO()
    call_command("hotline", "evaluate", "--file", str(DEMO_CORPUS), "--cross-validate", "3", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("stratified 3-fold cross-validation")
    assert tuple(line.split("=")[0] + "=" for line in lines[-4:]) == KEY_LINES
    assert float(lines[-3].split("=")[1]) >= 0.8
