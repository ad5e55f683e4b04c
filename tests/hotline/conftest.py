"""The real city (divisions, departments), the demo hotline configuration, a routing model
trained once on the project's demo corpus, and the staff who move tickets."""

from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from yiwang.core.models import Department, Division, Role
from yiwang.core.places import places_reset
from yiwang.core.reference import reference_load
from yiwang.core.services import user_create
from yiwang.hotline import services as hotline_services
from yiwang.hotline.routing import route_classifier_save, route_classifier_train, training_rows_read
from yiwang.hotline.seed import hotline_configuration_ensure

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_CORPUS = Path(__file__).resolve().parents[2] / "yiwang" / "hotline" / "data" / "demo_corpus.csv"
PASSWORD = "hotline-test-Pw1"


def at(year, month, day, hour=10, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def trained_model_file(tmp_path_factory) -> Path:
    texts, categories = training_rows_read(DEMO_CORPUS)
    path = tmp_path_factory.mktemp("hotline-model") / "hotline-model.joblib"
    route_classifier_save(route_classifier_train(texts=texts, categories=categories), path)
    return path


@pytest.fixture
def var_dir(settings, tmp_path) -> Path:
    """A VAR_DIR of the test's own: no routing model unless the test puts one there."""
    settings.VAR_DIR = tmp_path
    hotline_services._model.update(mtime=None, classifier=hotline_services.UntrainedClassifier())
    return tmp_path


@pytest.fixture
def trained(var_dir, trained_model_file) -> Path:
    shutil.copy(trained_model_file, var_dir / "hotline-model.joblib")
    return var_dir


@dataclass
class Hotline:
    centre: Department
    town: Division  # 丹江街街道, 安源区
    town_office: Department  # handles 城乡建设 in that town
    labour_branch: Department  # 安源区人社局: 劳动和社会保障 in 安源区
    operator: object
    dispatcher: object
    handler: object  # of the town office
    labour_handler: object
    outsider: object  # a handler of another department
    supervisor: object
    citizen: object


@pytest.fixture
def hotline(db, var_dir, settings) -> Hotline:
    # The tests file many requests from one phone; the web form's daily limit has its own test.
    settings.HOTLINE_WEB_DAILY_LIMIT = 10_000
    reference_load()
    places_reset()
    hotline_configuration_ensure()
    centre = Department.objects.get(code="RX12345")
    town = Division.objects.get(name="丹江街街道")
    town_office = Department.objects.get(code=f"{town.pk}-ZF")
    labour_branch = Department.objects.get(code="360302-RS")
    counter = iter(range(1000))

    def user(role, department=None, division=None):
        return user_create(
            actor=None,
            username=f"{role}-{next(counter)}",
            password=PASSWORD,
            display_name=f"{role}",
            roles=[(role, department, division)] if role else [],
        )

    return Hotline(
        centre=centre,
        town=town,
        town_office=town_office,
        labour_branch=labour_branch,
        operator=user(Role.HOTLINE_OPERATOR, centre),
        dispatcher=user(Role.DISPATCHER, centre),
        handler=user(Role.DEPARTMENT_HANDLER, town_office),
        labour_handler=user(Role.DEPARTMENT_HANDLER, labour_branch),
        outsider=user(Role.DEPARTMENT_HANDLER, Department.objects.get(code="JY")),
        supervisor=user(Role.SUPERVISOR, Department.objects.get(code="DB")),
        citizen=user(Role.CITIZEN),
    )


def request(**overrides) -> dict:
    data = {
        "kind": "complaint",
        "text": "丹江街道建设社区小区门口的路灯坏了一个多月，晚上出行很不方便，请尽快维修。",
        "caller_phone": "13807991234",
        "caller_name": "王先生",
        "address": "安源区丹江街道建设社区5栋",
    }
    data.update(overrides)
    return data
