"""The notification service: an outbox row in the caller's transaction, delivered once by the
configured backend, deduplicated by key, failures kept with their error for a retry."""

import json

import pytest

from yiwang.cases.models import Notice, NoticeState
from yiwang.cases.notices import notice_send, notices_for
from yiwang.cases.taskqueue import tasks_run_pending
from yiwang.core.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen():
    return User.objects.create_user(username="notice-citizen", phone="13800000001", email="c@example.cn")


def test_sms_to_a_user_with_a_phone_is_written_to_the_file_backend(citizen, settings, tmp_path):
    settings.NOTICE_BACKEND = "file"
    settings.NOTICE_DIR = str(tmp_path)
    notice = notice_send(user=citizen, subject="办件已受理", body="您的申请已受理。", ref="BJ-1")
    assert notice.channel == "sms" and notice.address == "13800000001"
    assert notice.state == NoticeState.QUEUED
    assert tasks_run_pending(worker="test") == 1
    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT and notice.sent_at is not None
    (path,) = tmp_path.glob("notices-*.jsonl")
    line = json.loads(path.read_text(encoding="utf-8"))
    assert line["to"] == "13800000001" and line["subject"] == "办件已受理" and line["ref"] == "BJ-1"
    # Delivered once: running the queue again sends nothing more.
    assert tasks_run_pending(worker="test") == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_e_mail_when_there_is_no_phone_and_nothing_without_an_address():
    user = User.objects.create_user(username="mail-only", email="m@example.cn")
    assert notice_send(user=user, subject="s", body="b").channel == "email"
    nobody = User.objects.create_user(username="no-address")
    assert notice_send(user=nobody, subject="s", body="b") is None
    assert Notice.objects.count() == 1


def test_the_same_key_sends_one_notice(citizen):
    first = notice_send(user=citizen, subject="提醒", body="请补交材料", ref="BJ-2", key="remind:BJ-2:1")
    second = notice_send(user=citizen, subject="提醒", body="请补交材料", ref="BJ-2", key="remind:BJ-2:1")
    assert first.pk == second.pk
    assert [notice.pk for notice in notices_for(ref="BJ-2")] == [first.pk]


def failing_gateway(notice):
    raise ConnectionError("gateway down")


def test_a_failing_backend_keeps_the_notice_failed_with_its_error(citizen, settings):
    settings.NOTICE_BACKEND = "tests.cases.test_notices:failing_gateway"
    notice = notice_send(user=citizen, subject="s", body="b")
    tasks_run_pending(worker="test")
    notice.refresh_from_db()
    assert notice.state == NoticeState.FAILED and notice.error == "gateway down"
