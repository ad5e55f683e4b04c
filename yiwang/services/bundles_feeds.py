"""The 卫健委's birth feed (出生医学信息) that the 新生儿出生一件事 reads, published through the
exchange like every department feed: the delivering hospital reports each live birth (child's
sex, date and place of birth, the parents' ID numbers and the child's pre-assigned ID number,
公民身份号码预赋号, which the public-security bureau gives the hospital for the newborn), and an
index from each parent's ID number to the birth, so that either parent's login finds it.

    wjw.births          one record per birth, key birth_number (出生信息登记号); read by that key
    wjw.birth_parents   one record per (birth, parent), subject the parent's ID number

The bundle's forms read the index by the applicant's ID number, then the birth by its number,
then the parents' names from the population base (ga.persons): the hospital reports numbers, the
registry keeps names. Personal fields are conditional: other departments read them under a grant
(bundles_demo_seed asks for and approves the grants its forms need).

    birth_feeds_publish()                     the two resources (idempotent)
    birth_record_push(mother=…, father=…, …)  one birth, as a hospital reports it
    births_demo_seed()                        a newborn in the demo citizen's family and a few dozen others
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

from yiwang.core.ids import IdentifierError, resident_id_build, resident_id_parse
from yiwang.core.models import Department
from yiwang.exchange import services as exchange
from yiwang.exchange.models import Record, Resource

ACTOR = "system:bundles-seed"
OWNER = "WJ"
BIRTHS = "wjw.births"
BIRTH_PARENTS = "wjw.birth_parents"
HOSPITALS = ("萍乡市妇幼保健院", "萍乡市人民医院", "萍乡市中医院", "安源区人民医院", "莲花县人民医院")


def _field(name: str, label: str, sharing: str = "conditional", kind: str = "string") -> dict[str, str]:
    return {"name": name, "label": label, "sharing_class": sharing, "type": kind, "description": ""}


RESOURCES: tuple[dict[str, Any], ...] = (
    {
        "code": BIRTHS,
        "title": "出生医学信息（住院分娩活产登记）",
        "subject_type": "none",
        "key_field": "birth_number",
        "subject_field": "",
        "fields": [
            _field("birth_number", "出生信息登记号", "open"),
            _field("child_id_number", "新生儿公民身份号码（预赋号）"),
            _field("child_sex", "新生儿性别"),
            _field("birth_date", "出生日期", kind="date"),
            _field("hospital", "出生医院", "open"),
            _field("weight_grams", "出生体重（克）", "closed", "integer"),
            _field("gestation_weeks", "出生孕周", "closed", "integer"),
            _field("mother_id_number", "母亲公民身份号码"),
            _field("father_id_number", "父亲公民身份号码"),
        ],
        "description": "助产机构上报的活产信息：新生儿性别、出生日期与医院、父母身份号码，以及公安机关为新生儿预赋的公民身份号码。",
    },
    {
        "code": BIRTH_PARENTS,
        "title": "新生儿父母关联信息",
        "subject_type": "person",
        "key_field": "link",
        "subject_field": "parent_id_number",
        "fields": [
            _field("link", "关联编号", "open"),
            _field("parent_id_number", "父（母）公民身份号码"),
            _field("birth_number", "出生信息登记号"),
            _field("role", "父母关系", "open"),
        ],
        "description": "按父亲或母亲的公民身份号码查到其新生儿的出生信息登记号（出生一件事智能预填用）。",
    },
)


def birth_feeds_publish(*, actor: Any = ACTOR) -> list[Resource]:
    """Publish the birth feed and its parents' index as resources of the 卫健委 (left alone when
    they exist). Returns them; an empty list when the department is missing."""
    department = Department.objects.filter(code=OWNER).first()
    if department is None:
        return []
    published = []
    for spec in RESOURCES:
        resource = Resource.objects.filter(code=spec["code"]).first()
        if resource is None:
            resource = exchange.resource_publish(
                actor=actor,
                department=department,
                source_system="出生医学证明管理信息系统",
                update_frequency="daily",
                theme="卫生健康",
                provenance="助产机构每日上报，卫健委汇总推送",
                access_rights="个人信息字段有条件共享，需申请",
                **spec,
            )
        published.append(resource)
    return published


def child_id_number(*, birthplace_code: str, birth_date: datetime.date, sex: str, seed: int) -> str:
    """A pre-assigned ID number for a newborn (GB 11643, checksum valid) that no registered
    person and no reported birth has yet: the order number is drawn from `seed`."""
    from yiwang.registry.models import Person

    rng = random.Random(seed)
    taken = set(Record.objects.filter(resource__code=BIRTHS).values_list("data__child_id_number", flat=True))
    for _attempt in range(500):
        number = resident_id_build(birthplace_code, birth_date, rng.randrange(500), sex)
        if number not in taken and not Person.objects.filter(id_number=number).exists():
            return number
    raise ValueError("no free order number for this birthplace and date")


def _birthplace_code(person: Any) -> str:
    """The county code the child's number is given under: the parent's registered county, or
    the parent's own birthplace when that county is not a known code."""
    for code in ((person.division_id or "")[:6], person.birthplace_code):
        try:
            resident_id_parse(resident_id_build(code, datetime.date(2000, 1, 1), 1, "M"))
        except IdentifierError:
            continue
        return code
    return person.birthplace_code


def birth_record_push(
    *,
    mother: Any,
    father: Any = None,
    child_sex: str,
    birth_date: datetime.date,
    hospital: str = HOSPITALS[0],
    weight_grams: int = 3300,
    gestation_weeks: int = 39,
    actor: Any = ACTOR,
) -> dict[str, Any]:
    """Report one live birth as the hospital does (the records and the parents' index rows,
    one batch each); returns the birth record. Mother and father are registry persons;
    `child_sex` is "M" or "F" (the feed says 男 / 女, as the certificate prints it)."""
    birth_feeds_publish(actor=actor)
    parent = mother
    number = f"CS{birth_date:%Y%m%d}{mother.id_number[-6:]}"
    record = {
        "birth_number": number,
        "child_id_number": child_id_number(
            birthplace_code=_birthplace_code(parent),
            birth_date=birth_date,
            sex=child_sex,
            seed=int(mother.id_number[-7:-1]) + birth_date.toordinal(),
        ),
        "child_sex": {"M": "男", "F": "女"}[child_sex],  # as the certificate prints it
        "birth_date": birth_date.isoformat(),
        "hospital": hospital,
        "weight_grams": weight_grams,
        "gestation_weeks": gestation_weeks,
        "mother_id_number": mother.id_number,
        "father_id_number": father.id_number if father is not None else None,
    }
    links = [
        {"link": f"{number}-M", "parent_id_number": mother.id_number, "birth_number": number, "role": "母亲"}
    ]
    if father is not None:
        links.append(
            {
                "link": f"{number}-F",
                "parent_id_number": father.id_number,
                "birth_number": number,
                "role": "父亲",
            }
        )
    _push(BIRTHS, [record], actor)
    _push(BIRTH_PARENTS, links, actor)
    return record


def _push(code: str, rows: list[dict[str, Any]], actor: Any) -> None:
    resource = Resource.objects.get(code=code)
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    report = exchange.records_ingest(actor=actor, resource=resource, content=content, name=f"{code}.jsonl")
    if report.errors:
        raise ValueError(f"{code}: {report.errors[:3]}")


def births_demo_seed(*, today: datetime.date | None = None, others: int = 30) -> int:
    """The demo's births, pushed once (a feed that already has records is left alone): a
    daughter born nine days ago to the demo citizen and their spouse, and `others` births in
    the last two months to couples of the registry. Returns the number of births pushed."""
    from yiwang.registry.models import HouseholdMember, Person, Relation

    resources = birth_feeds_publish()
    if not resources or Record.objects.filter(resource__code=BIRTHS).exists():
        return 0
    today = today or datetime.date.today()
    rng = random.Random(3603)
    pushed = 0
    couples = []
    citizen = Person.objects.filter(user__username="citizen").select_related("membership").first()
    if citizen is not None and hasattr(citizen, "membership"):
        spouse = (
            HouseholdMember.objects.filter(household=citizen.membership.household)
            .exclude(person=citizen)
            .filter(relation__in=(Relation.HEAD, Relation.SPOUSE))
            .select_related("person")
            .first()
        )
        if spouse is not None:
            couples.append((citizen, spouse.person, 9))
        elif citizen.sex == "F":
            couples.append((citizen, None, 9))
    heads = HouseholdMember.objects.filter(
        relation=Relation.SPOUSE,
        person__sex="F",
        person__death_date__isnull=True,
        person__birth_date__gt=today - datetime.timedelta(days=40 * 365),
        person__birth_date__lt=today - datetime.timedelta(days=22 * 365),
    ).select_related("person", "household__head")
    for member in heads.order_by("id")[: others * 3 : 3]:
        if member.household.head_id and member.household.head_id != member.person_id:
            couples.append((member.person, member.household.head, rng.randrange(1, 60)))
    for first, second, days in couples:
        mother, father = (first, second) if first.sex == "F" else (second, first)
        if mother is None or mother.sex != "F":
            continue
        birth_record_push(
            mother=mother,
            father=father,
            child_sex="F" if days == 9 and first is citizen else rng.choice("MF"),
            birth_date=today - datetime.timedelta(days=days),
            hospital=HOSPITALS[0] if days == 9 else rng.choice(HOSPITALS),
            weight_grams=rng.randrange(2600, 4200, 10),
            gestation_weeks=rng.randrange(37, 42),
        )
        pushed += 1
    return pushed
