"""The 医保 rules the platform-level rule tests share: a person's (or a household's members')
self-paid medical costs over the last 12 months ≥ the threshold (integer fen)."""

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


def medical_household_rule(
    *,
    households: tuple[str, str] = ("ga.households", "number"),
    members: tuple[str, str] = ("ga.household_members", "household_number"),
    claims: str = "yb.self_pay_claims",
    paid_on: str = "settled_on",
) -> dict:
    """The household rule (relapse.medical): the members' self-paid costs summed, reading
    `households` (resource, key), `members` (resource, household field) and `claims` (linked
    by ID number, dated by `paid_on`)."""
    return {
        "code": "relapse.medical",
        "title": "医保：家庭成员个人自付医疗费用高",
        "subject": "households",
        "sources": {
            "households": {"resource": households[0], "key": households[1]},
            "members": {"resource": members[0], "subject": members[1]},
            "claims": {
                "resource": claims,
                "via": {"source": "members", "field": "id_number", "to": "id_number"},
            },
        },
        "conditions": [
            SELF_PAY
            | {
                "label": "家庭成员近12个月个人自付医疗费用合计（分）",
                "value": {
                    "sum": "claims.self_pay_fen",
                    "where": [{"field": f"claims.{paid_on}", "op": ">=", "value": {"months_before": 12}}],
                },
            }
        ],
    }
