"""秒批 keeps what does not change between submissions in the process (a rule version's parsed
definition, its rendered statement): a new version published is used by the very next
submission, every subject gets its own answer from the cached statement, and the evidence and
audit entries are written as before — after the read, in the decision's transaction."""

from __future__ import annotations

import copy
import datetime

import pytest
import yaml

from tests.services.test_instant import _submit, instant  # noqa: F401 - the fixture
from yiwang.core.audit import audit_verify
from yiwang.core.models import AuditEntry
from yiwang.exchange.evidence import evidence_chain_verify
from yiwang.exchange.models import ExchangeRead
from yiwang.rules import services as rules
from yiwang.services import cases as states
from yiwang.services.instant import INSTANT_APPROVED, INSTANT_FALLBACK, RULES_DIR

pytestmark = pytest.mark.django_db


def _property_record_file() -> dict:
    return yaml.safe_load((RULES_DIR / "property_record.yaml").read_text(encoding="utf-8"))


def test_a_new_version_published_is_used_by_the_next_submission(instant):  # noqa: F811
    first = _submit(instant.citizen, instant.transfer, key="before")
    assert first.instant == INSTANT_APPROVED  # the statement of version 1 is now cached
    stricter = copy.deepcopy(_property_record_file())
    stricter["rule"]["conditions"][0]["than"] = {"value": 2}  # two properties or more
    version = rules.rule_file_load(raw=stricter, source="test")
    assert version.number == 2
    second = _submit(instant.citizen, instant.transfer, key="after")
    second.refresh_from_db()
    assert second.instant == INSTANT_FALLBACK
    assert second.case.state == states.SUBMITTED
    (condition,) = second.instant_explanation["conditions"]
    assert (condition["value"], condition["compared_with"], condition["passed"]) == (1, 2, False)
    # The read of version 2 is recorded as such, before the decision taken from it.
    read = AuditEntry.objects.filter(action="rules.batch_read").order_by("sequence").last()
    assert read.after["version"] == 2
    fallback = AuditEntry.objects.get(action="services.instant_fallback")
    assert fallback.sequence > read.sequence
    assert audit_verify()[1] == [] and evidence_chain_verify()[1] == []


def test_the_cached_statement_answers_each_subject_for_itself(instant):  # noqa: F811
    version = rules.rule_in_force(code="services.property_record")
    definition = rules.definition_of(version)
    assert rules.definition_of(version) is definition  # parsed once
    on = datetime.date.today()
    holder = instant.person.id_number
    (explained,) = rules.rule_explain(definition, subjects=[holder], on=on)
    assert explained.subject == holder and explained.eligible
    cached = len(rules._sql_cache)
    # Another subject, one that is no one, and a key with a quote reuse the same statement.
    assert rules.rule_explain(definition, subjects=["no-such-person"], on=on) == []
    assert rules.rule_explain(definition, subjects=["O'Brien"], on=on) == []
    assert rules.rule_explain(definition, subjects=[], on=on) == []
    (again,) = rules.rule_explain(definition, subjects=["no-such-person", holder], on=on)
    assert again == explained
    assert len(rules._sql_cache) == cached
    # Another day is another statement (an age or a window counted back from it would differ).
    rules.rule_explain(definition, subjects=[holder], on=on - datetime.timedelta(days=1))
    assert len(rules._sql_cache) == cached + 1


def test_a_refused_read_writes_no_evidence_and_falls_back(instant):  # noqa: F811
    from yiwang.exchange.models import Grant
    from yiwang.services.services import application_submit

    Grant.objects.filter(consumer__code="BDCDJ").delete()  # no ga.persons.id_number for 不动产登记中心
    person = instant.person
    before = ExchangeRead.objects.filter(purpose__contains="秒批").count()
    application = application_submit(
        matter=instant.transfer,
        actor=instant.citizen,
        values={
            "reason": "查询本人不动产登记结果",
            "name": person.name,
            "id_number": person.id_number,
            "sex": person.sex,
            "birth_date": person.birth_date.isoformat(),
            "phone": "13800000000",
            "address": "萍乡市安源区",
        },
        submission_key="refused",
    )
    application.refresh_from_db()
    assert application.instant == INSTANT_FALLBACK
    assert "ga.persons.id_number" in application.instant_explanation["error"]
    assert ExchangeRead.objects.filter(purpose__contains="秒批").count() == before  # nothing was read
    refused = AuditEntry.objects.get(action="rules.read_refused")
    fallback = AuditEntry.objects.get(action="services.instant_fallback")
    assert refused.sequence < fallback.sequence
    assert audit_verify()[1] == []
