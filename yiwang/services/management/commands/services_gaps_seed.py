"""`yiwang services_gaps_seed`: a demo matter that shows tolerated gaps (容缺受理) and pledges
(告知承诺制): 住建局's 公共租赁住房资格申请, whose lease contract may be supplied later, whose
income certificate is key (never tolerated) and whose no-criminal-record certificate a pledge
may replace. Idempotent (the matter is written by code with a digest of its content: a second
run changes nothing). Run after `services_seed` (it uses its grants)."""

from __future__ import annotations

import hashlib
import json

from django.core.management.base import BaseCommand
from django.db import transaction

from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.services.forms_data import PERSON_FIELDS, PERSON_MATERIALS, REASON, MaterialSpec

CODE = "YW-ZJ-GAP-001"
FIELDS = {
    "code": CODE,
    "name": "公共租赁住房保障资格申请（容缺受理、告知承诺）",
    "type": 5,  # 行政给付
    "applicant_kind": "person",
    "legal_limit_days": 20,
    "promised_limit_days": 10,
    "gap_supply_days": 5,
    "visits": 0,
    "keywords": "公租房 容缺受理 告知承诺",
    "legal_basis": "《公共租赁住房管理办法》（住房和城乡建设部令第11号）；"
    "《国务院办公厅关于全面推行证明事项告知承诺制的指导意见》（国办发〔2020〕42号）",
    "conditions": "申请人在本市有稳定就业、无自有住房；房屋租赁合同可容缺后补，无犯罪记录证明可以告知承诺代替。",
}
MATERIALS = [
    *(spec._asdict() for spec in PERSON_MATERIALS),
    MaterialSpec("房屋租赁合同", True, False, "upload")._asdict(),
    MaterialSpec("收入证明", True, True, "upload")._asdict(),
    MaterialSpec("无犯罪记录证明", True, False, "upload")._asdict() | {"pledge_allowed": True},
]


class Command(BaseCommand):
    help = "Create the demo matter for tolerated gaps and pledges (idempotent)."

    def handle(self, *args, **options) -> None:
        from yiwang.services.services import autofill_grants_ensure, matters_write

        department = Department.objects.filter(code="ZJ").first()
        if department is None:
            self.stdout.write("services gaps: no 住建局 (ZJ): run the core seed first; nothing done")
            return
        materials = [values | {"position": i} for i, values in enumerate(MATERIALS)]
        fields = FIELDS | {"department_id": department.pk}
        digest = hashlib.md5(
            json.dumps([fields, materials], ensure_ascii=False, sort_keys=True).encode(),
            usedforsecurity=False,
        ).hexdigest()
        row = {"fields": fields, "materials": materials, "has_materials": True, "digest": digest}
        with transaction.atomic():
            created, updated, unchanged = matters_write(
                rows=[row], forms={CODE: ((*PERSON_FIELDS, REASON), ())}
            )
            if created or updated:
                audit_record(
                    actor="system:services-gaps-seed",
                    action="services.gaps_demo_seed",
                    object_type="services.matter",
                    after={"code": CODE, "created": created, "updated": updated},
                )
        from yiwang.core.models import User

        chief = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
        grants = autofill_grants_ensure(actor=chief, departments=[department]) if chief is not None else 0
        self.stdout.write(
            f"services gaps: matter {CODE}: {created} created, {updated} updated, {unchanged} unchanged; "
            f"{grants} sharing grants made"
        )
