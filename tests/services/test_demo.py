"""The demo catalog: ≥ 1,508 matters over the city's departments, county branches and towns,
with forms and materials; a second run changes nothing."""

from __future__ import annotations

from django.core.management import call_command

from yiwang.core.models import DepartmentKind
from yiwang.services.demo import services_demo_seed
from yiwang.services.models import FormField, Material, Matter


def test_the_demo_city_has_at_least_1508_matters_and_the_seed_is_idempotent(city, capsys):
    first = services_demo_seed()
    assert first["matters"] >= 1508 and first["created"] == first["matters"]
    kinds = set(Matter.objects.values_list("department__kind", flat=True))
    assert {DepartmentKind.BUREAU, DepartmentKind.CENTRE, DepartmentKind.TOWN_OFFICE} <= kinds
    # Every matter can be applied for: a form, and its materials.
    assert not Matter.objects.filter(form_fields__isnull=True).exists()
    assert not Matter.objects.filter(materials__isnull=True).exists()
    transfer = Matter.objects.get(name="国有建设用地使用权及房屋所有权转移登记")
    assert transfer.department.code == "BDCDJ" and transfer.fee_fen == 8000
    assert transfer.form_fields.filter(name="property_address", subject_from="unit_number").exists()
    food = Matter.objects.filter(main_item="食品经营许可", department__code="SCJG")
    assert sorted(food.values_list("name", flat=True)) == sorted(
        f"食品经营许可（{word}）" for word in ("新办", "变更", "延续", "注销", "补办")
    )
    assert all(m.promised_limit_days <= m.legal_limit_days for m in Matter.objects.all()[:500])
    fields, materials = FormField.objects.count(), Material.objects.count()
    call_command("services_seed")
    assert "0 created, 0 updated" in capsys.readouterr().out
    assert (FormField.objects.count(), Material.objects.count()) == (fields, materials)
    assert Matter.objects.count() == first["matters"]
