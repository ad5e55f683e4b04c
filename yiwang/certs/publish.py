"""The e-certificate library (电子证照库) in the exchange: every certificate's register entry
(number, type, holder, issuer, dates, status, digest; not its fields) published as the records
of resource `zs.e_certificates`, owned by 政数局 (ZS), so other departments read it through
`exchange_read` with a grant and evidence, like any shared data.

It is a copy pushed in batches (`yiwang certs_publish`, idempotent: an unchanged register is
recognised and changes nothing; changed rows keep their history in the exchange). Between two
runs the copy may lag: whoever must know a certificate's status at this instant asks the certs
engine (`certificates_of`, `certificate_verify`)."""

from __future__ import annotations

import json
from typing import Any

from yiwang.certs.models import Certificate
from yiwang.core.models import Department
from yiwang.exchange import services as exchange
from yiwang.exchange.models import Resource

RESOURCE_CODE = "zs.e_certificates"
OWNER = "ZS"
ACTOR = "system:certs_publish"

# name, type, sharing class, Chinese label
FIELDS = [
    ("number", "string", "open", "证照编号"),
    ("type_code", "string", "open", "证照类型代码"),
    ("type_name", "string", "open", "证照类型"),
    ("holder_kind", "string", "open", "持证主体类型"),
    ("holder", "string", "conditional", "持证主体代码"),
    ("holder_name", "string", "conditional", "持证主体名称"),
    ("department", "string", "open", "签发部门代码"),
    ("issued_at", "datetime", "open", "签发时间"),
    ("valid_from", "date", "open", "生效日期"),
    ("valid_to", "date", "open", "失效日期"),
    ("status", "string", "open", "状态"),
    ("revoked_reason", "string", "conditional", "撤销原因"),
    ("digest", "string", "open", "SM3 摘要"),
]


def _resource_ensure(department: Department) -> Resource:
    resource = Resource.objects.filter(code=RESOURCE_CODE).first()
    if resource is not None:
        return resource
    return exchange.resource_publish(
        actor=ACTOR,
        department=department,
        code=RESOURCE_CODE,
        title="电子证照库（证照目录）",
        subject_type="none",
        key_field="number",
        subject_field="holder",
        fields=[
            {"name": name, "type": kind, "sharing_class": sharing, "label": label, "description": ""}
            for name, kind, sharing, label in FIELDS
        ],
        description="平台签发的全部电子证照的登记信息（不含证照字段内容）；核验以 certs 引擎为准。",
        source_system="电子证照系统",
        update_frequency="daily",
        theme="电子证照",
        provenance="由电子证照系统（certs）批量推送",
        access_rights="有条件共享字段需申请",
    )


def _row(certificate: Certificate) -> dict[str, Any]:
    return {
        "number": certificate.number,
        "type_code": certificate.certificate_type.code,
        "type_name": certificate.certificate_type.name,
        "holder_kind": certificate.holder_kind,
        "holder": certificate.holder,
        "holder_name": certificate.holder_name,
        "department": certificate.department.code,
        "issued_at": certificate.issued_at.isoformat(),
        "valid_from": certificate.valid_from.isoformat(),
        "valid_to": certificate.valid_to.isoformat() if certificate.valid_to else None,
        "status": certificate.status,
        "revoked_reason": certificate.revoked_reason,
        "digest": certificate.digest,
    }


def certificates_publish() -> dict[str, Any]:
    """Push the whole register to the exchange (one all-or-nothing batch). Returns the
    exchange's counts, or {"skipped": reason}."""
    department = Department.objects.filter(code=OWNER).first()
    if department is None:
        return {"skipped": f"department {OWNER} is missing"}
    resource = _resource_ensure(department)
    certificates = Certificate.objects.select_related("certificate_type", "department").order_by("id")
    content = "\n".join(json.dumps(_row(c), ensure_ascii=False) for c in certificates.iterator()).encode()
    if not content:
        return {"rows": 0}
    report = exchange.records_ingest(
        actor=ACTOR, resource=resource, content=content, name="certificates.jsonl"
    )
    return {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "duplicate": report.duplicate,
        "errors": report.errors[:5],
    }
