"""Where a rule's resources are in the platform's own database: one typed SELECT per resource.

- Record-backed feeds: the JSON of exchange_record, one typed column per field. Decimal
  fields (yuan) are also offered as `<field>_fen`, integer fen converted exactly: NUMERIC on
  PostgreSQL; on SQLite ROUND(REAL × 100), exact for two-decimal amounts below 10¹³ yuan (the
  error of the product stays under a quarter fen).
- Record-backed feeds with a typed mirror in sync (yiwang.rules.mirror): the mirror's table,
  the same columns without the JSON extraction.
- Registry-backed resources (ga.persons, ga.households, scjg.enterprises, bdcdj.properties):
  the registry's own tables, with the columns named as the exchange publishes the fields.

The rules engine reads through these relations only; which department may run a rule over
which resource is the exchange's grant question (see docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import prefetch_related_objects

from yiwang.rules.compiler import Relation

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}


def dialect_of_connection() -> str:
    try:
        return DIALECTS[connection.vendor]
    except KeyError:
        raise LookupError(f"rules cannot run on {connection.vendor}") from None


def _json(field: str, vendor: str) -> str:
    if vendor == "sqlite":
        return f"json_extract(r.data, '$.{field}')"
    return f"(r.data ->> '{field}')"


def _typed(field: str, kind: str, vendor: str) -> list[str]:
    raw = _json(field, vendor)
    if kind == "integer":
        return [f"CAST({raw} AS {'INTEGER' if vendor == 'sqlite' else 'BIGINT'}) AS {field}"]
    if kind == "decimal":
        if vendor == "sqlite":
            fen = f"CAST(ROUND(CAST({raw} AS REAL) * 100) AS INTEGER)"
        else:
            fen = f"CAST(ROUND(CAST({raw} AS NUMERIC) * 100) AS BIGINT)"
        return [f"{raw} AS {field}", f"{fen} AS {field}_fen"]
    if kind == "date" and vendor != "sqlite":
        return [f"CAST({raw} AS DATE) AS {field}"]
    if kind == "datetime" and vendor != "sqlite":
        return [f"CAST({raw} AS TIMESTAMP) AS {field}"]
    if kind == "boolean" and vendor != "sqlite":
        return [f"CAST({raw} AS BOOLEAN) AS {field}"]
    return [f"{raw} AS {field}"]


def _registry_sql(backing: str) -> str:
    from yiwang.registry.models import (
        Enterprise,
        Household,
        HouseholdMember,
        Person,
        Property,
        PropertyOwner,
    )

    person, household, member = (
        Person._meta.db_table,
        Household._meta.db_table,
        HouseholdMember._meta.db_table,
    )
    if backing == "person":
        return (
            "SELECT id_number, name, sex, birth_date, ethnicity, division_id AS division_code, phone, address, "
            f"death_date FROM {person}"
        )
    if backing == "household":
        return (
            "SELECT h.number, h.kind, p.id_number AS head_id_number, h.division_id AS division_code, h.is_rural, "
            f"(SELECT COUNT(*) FROM {member} m WHERE m.household_id = h.id) AS member_count, h.address "
            f"FROM {household} h LEFT JOIN {person} p ON p.id = h.head_id"
        )
    if backing == "enterprise":
        return (
            "SELECT uscc, name, kind, legal_representative_name, industry_code, industry_name, registered_capital, "
            "established_on, status, division_id AS division_code, employee_count, land_area_mu, address, phone "
            f"FROM {Enterprise._meta.db_table}"
        )
    if backing == "property":
        return (
            "SELECT unit_number, use, area, division_id AS division_code, registered_on, address, certificate_number "
            f"FROM {Property._meta.db_table}"
        )
    if backing == "household_member":
        return (
            "SELECT h.number AS household_number, p.id_number, m.relation "
            f"FROM {member} m JOIN {household} h ON h.id = m.household_id JOIN {person} p ON p.id = m.person_id"
        )
    if backing == "property_owner":
        return (
            "SELECT u.unit_number, p.id_number AS owner_id_number, e.uscc AS owner_uscc, o.share "
            f"FROM {PropertyOwner._meta.db_table} o JOIN {Property._meta.db_table} u ON u.id = o.property_id "
            f"LEFT JOIN {person} p ON p.id = o.person_id LEFT JOIN {Enterprise._meta.db_table} e "
            "ON e.id = o.enterprise_id"
        )
    raise LookupError(f"unknown registry backing {backing!r}")


def platform_relations(
    resources: Iterable[str], *, mirror: bool = True, loaded: dict[str, Any] | None = None
) -> dict[str, Relation]:
    """A Relation for each resource code, on the default database connection. A record-backed
    feed is read from its typed mirror (yiwang.rules.mirror) when it has one in sync, unless
    `mirror` is false; from the JSON of its records otherwise. `loaded`: the resources (with
    their fields prefetched) by code, when the caller has them already. The mirrors' states are
    only read when a record-backed feed is among the resources (a registry-backed resource is
    always its registry table)."""
    from yiwang.exchange.models import Record, Resource
    from yiwang.rules.mirror import mirror_relation_sql, mirror_states

    codes = set(resources)
    if loaded is not None and codes <= set(loaded):
        found = [loaded[code] for code in sorted(codes)]
    else:
        found = list(Resource.objects.filter(code__in=list(codes)))
    vendor = connection.vendor
    relations: dict[str, Relation] = {}
    feeds = [resource for resource in found if not resource.backing]
    if feeds:
        prefetch_related_objects(feeds, "fields")
    states = mirror_states() if mirror and feeds else {}
    for resource in found:
        if resource.backing:
            relations[resource.code] = Relation(_registry_sql(resource.backing))
            continue
        table = mirror_relation_sql(resource, states) if resource.code in states else None
        if table is not None:
            relations[resource.code] = Relation(table)
            continue
        columns = [
            column for field in resource.fields.all() for column in _typed(field.name, field.type, vendor)
        ]
        relations[resource.code] = Relation(
            f"SELECT {', '.join(columns)} FROM {Record._meta.db_table} r WHERE r.resource_id = {int(resource.pk)}"
        )
    return relations
