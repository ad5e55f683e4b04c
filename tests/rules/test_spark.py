"""The batch face for province scale: the same rule rendered as Spark SQL and run on pyspark in
local mode (Debian's OpenJDK), over the YAML cases' data. Slow (a JVM starts), run in CI."""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from yiwang.rules.compiler import Relation, rule_sql
from yiwang.rules.definition import definition_parse

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="no Java runtime (apt-get install default-jre-headless)"
    ),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    # py4j says goodbye at interpreter exit, after pytest has closed the stream it logs to.
    logging.getLogger("py4j").setLevel(logging.WARNING)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("yiwang-rules-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _spark_type(values: list) -> str:
    sample = next((value for value in values if value is not None), "")
    if isinstance(sample, bool):
        return "BOOLEAN"
    if isinstance(sample, int):
        return "BIGINT"
    if isinstance(sample, datetime.date):
        return "DATE"
    return "STRING"


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_rule_case_on_spark_sql(spark, path: Path):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    definition = definition_parse(case["rule"])
    relations = {}
    for resource, rows in case["data"].items():
        columns = list(dict.fromkeys(name for row in rows for name in row))
        schema = ", ".join(f"{c} {_spark_type([row.get(c) for row in rows])}" for c in columns)
        view = resource.replace(".", "_")
        spark.createDataFrame(
            [tuple(row.get(c) for c in columns) for row in rows], schema
        ).createOrReplaceTempView(view)
        relations[resource] = Relation(view)
    sql = rule_sql(
        definition,
        relations=relations,
        parameters=case.get("parameters", {}),
        on=case["as_of"],
        dialect="spark",
    )
    rows = {row["subject"]: row.asDict() for row in spark.sql(sql).collect()}
    assert set(rows) == set(case["expect"])
    for subject, expected in case["expect"].items():
        assert rows[subject]["eligible"] is expected["eligible"], (subject, rows[subject])
        assert rows[subject]["amount"] == expected.get("amount", rows[subject]["amount"])
        for condition in definition.conditions:
            if condition.id in expected:
                assert rows[subject][f"v_{condition.id}"] == expected[condition.id]
