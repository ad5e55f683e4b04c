"""The 医保 person rule the platform-level rule tests share: a person's self-paid medical costs
over the last 12 months ≥ the threshold (integer fen)."""

from __future__ import annotations

BASIS = {"document": "《关于健全防止返贫动态监测和帮扶机制的指导意见》", "article": "二"}
SELF_PAY = {
    "id": "self_pay",
    "label": "近12个月个人自付医疗费用合计（分）",
    "basis": BASIS,
    "value": {
        "sum": "claims.self_pay_fen",
        "where": [{"field": "claims.settled_on", "op": ">=", "value": {"months_before": 12}}],
    },
    "op": ">=",
    "than": {"param": "relapse.medical.threshold_fen"},
}


def medical_person_rule(*more_conditions: dict) -> dict:
    """The rule with its self-pay condition, then any further conditions."""
    return {
        "code": "relapse.medical.person",
        "title": "医保：个人自付医疗费用高",
        "subject": "persons",
        "sources": {
            "persons": {"resource": "ga.persons", "key": "id_number"},
            "claims": {"resource": "yb.self_pay_claims", "subject": "id_number"},
        },
        "conditions": [SELF_PAY, *more_conditions],
    }
