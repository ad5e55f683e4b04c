"""factory_boy factories for core and registry rows.

Every identifier is valid (ID numbers, USCCs, 28-character unit numbers) and unique within a
test session. Divisions default to a new village under a new town of 萍乡市; pass `parent=` to
hang a town or village under an existing division (e.g. one loaded by reference_load):

    village = VillageFactory(parent=Division.objects.get(code="360302003"))
    clerk = UserFactory(role="window_clerk", role__department=DepartmentFactory())
    family = HouseholdFactory(division=village)            # with a head member
    home = PropertyFactory(owners=[family.head])           # one owner, share 1
    shop = PropertyFactory(owners=[(a, "0.5"), (b, "0.5")])
    firm = EnterpriseFactory(kind="individual")            # USCC kind digit 2

Codes of new divisions start at 500 (towns) and 900 (villages) so they never clash with the
real towns or the generated villages; ID numbers use order numbers 400-499, which the demo
seed does not reach, so factories and the seed can share a database.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from yiwang.core.ids import resident_id_build, uscc_build
from yiwang.core.models import Department, DepartmentKind, Division, DivisionLevel, RoleAssignment, User
from yiwang.registry.models import (
    Enterprise,
    Household,
    HouseholdMember,
    Person,
    Property,
    PropertyOwner,
    Relation,
)

PASSWORD = "yiwang-test-password"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN_MALE = ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "建华", "志强", "国平", "海波", "文斌")
GIVEN_FEMALE = ("芳", "娜", "敏", "静", "丽", "燕", "霞", "秀英", "桂兰", "丽娟", "晓燕", "玉梅", "红霞")


def city() -> Division:
    """萍乡市 (3603), created if the reference data is not loaded."""
    division, _ = Division.objects.get_or_create(
        code="3603", defaults={"name": "萍乡市", "level": DivisionLevel.CITY}
    )
    return division


def default_village() -> Division:
    """A village for rows that need one: the first loaded village, else a new one."""
    village = Division.objects.filter(level=DivisionLevel.VILLAGE).order_by("code").first()
    return village or VillageFactory()


def _organization_code(body: str) -> str:
    """GB 11714 organisation code: 8 characters and their check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


class CountyFactory(DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    parent = factory.LazyFunction(city)
    code = factory.Sequence(lambda n: f"3603{50 + n % 50:02d}")
    name = factory.Sequence(lambda n: f"测试{n}区")
    level = DivisionLevel.COUNTY


class TownFactory(DjangoModelFactory):
    class Meta:
        model = Division

    parent = factory.SubFactory(CountyFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{500 + n % 500:03d}")
    name = factory.Sequence(lambda n: f"测试{n}镇")
    level = DivisionLevel.TOWN


class VillageFactory(DjangoModelFactory):
    class Meta:
        model = Division

    parent = factory.SubFactory(TownFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{900 + n % 100:03d}")
    name = factory.LazyAttributeSequence(lambda o, n: f"测试{n}{'社区' if o.is_urban else '村'}")
    level = DivisionLevel.VILLAGE
    is_urban = False
    is_synthetic = True


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"TEST{n}")
    name = factory.Sequence(lambda n: f"萍乡市测试{n}局")
    short_name = factory.Sequence(lambda n: f"测试{n}局")
    name_en = factory.Sequence(lambda n: f"Test Bureau {n}")
    kind = DepartmentKind.BUREAU
    division = factory.LazyFunction(city)


class UserFactory(DjangoModelFactory):
    """A login; `role="window_clerk"` (with `role__department=` / `role__division=`) adds a role."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"{SURNAMES[n % len(SURNAMES)]}{GIVEN_FEMALE[n % 13]}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted and create:
            RoleAssignment.objects.create(
                user=self,
                role=extracted,
                department=kwargs.get("department"),
                division=kwargs.get("division"),
            )

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = "citizen"
    department = None
    division = None


class PersonFactory(DjangoModelFactory):
    """A person with a valid ID number that agrees with birth date, sex and birthplace."""

    class Meta:
        model = Person

    sex = factory.Sequence(lambda n: "M" if n % 2 else "F")
    # Ages 20 to 60 in 2026; pass birth_date for children or the elderly.
    birth_date = factory.Sequence(
        lambda n: datetime.date(1966, 1, 1) + datetime.timedelta(days=(n * 7919) % 14600)
    )
    birthplace_code = "360302"
    id_number = factory.LazyAttributeSequence(
        lambda o, n: resident_id_build(o.birthplace_code, o.birth_date, 400 + (n // 14600 + n) % 100, o.sex)
    )
    name = factory.LazyAttributeSequence(
        lambda o, n: SURNAMES[n % len(SURNAMES)] + (GIVEN_MALE if o.sex == "M" else GIVEN_FEMALE)[n % 13]
    )
    phone = factory.Sequence(lambda n: f"138{n % 10**8:08d}")
    address = factory.Sequence(lambda n: f"江西省萍乡市安源区八一街街道跃进社区跃进路{n % 400 + 1}号")
    division = factory.LazyFunction(default_village)


class HouseholdFactory(DjangoModelFactory):
    """A household whose head (a new adult person, unless `head=` is given) is its member."""

    class Meta:
        model = Household
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"T{n:016d}")
    division = factory.LazyFunction(default_village)
    head = factory.SubFactory(PersonFactory, division=factory.SelfAttribute("..division"))
    address = factory.LazyAttribute(lambda o: o.head.address if o.head else "")
    is_rural = factory.LazyAttribute(lambda o: not o.division.is_urban)

    @factory.post_generation
    def head_member(self, create, extracted, **kwargs):
        if create and self.head_id and not HouseholdMember.objects.filter(person_id=self.head_id).exists():
            HouseholdMember.objects.create(household=self, person=self.head, relation=Relation.HEAD)


class HouseholdMemberFactory(DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    household = factory.SubFactory(HouseholdFactory)
    person = factory.SubFactory(PersonFactory, division=factory.SelfAttribute("..household.division"))
    relation = Relation.SPOUSE


class EnterpriseFactory(DjangoModelFactory):
    """An enterprise with a valid USCC; `kind` is company (1), individual (2) or cooperative (3)."""

    class Meta:
        model = Enterprise

    class Params:
        kind_digit = factory.LazyAttribute(lambda o: {"individual": "2", "cooperative": "3"}.get(o.kind, "1"))

    kind = "company"
    uscc = factory.LazyAttributeSequence(
        lambda o, n: uscc_build("360302", _organization_code(f"T{n % 10**7:07d}"), kind=o.kind_digit)
    )
    name = factory.Sequence(lambda n: f"萍乡市测试{n}陶瓷有限公司")
    legal_representative = factory.SubFactory(PersonFactory)
    legal_representative_name = factory.LazyAttribute(
        lambda o: o.legal_representative.name if o.legal_representative else "张伟"
    )
    industry_code = "C3073"
    industry_name = "特种陶瓷制品制造"
    registered_capital = Decimal("500.00")
    employee_count = 25
    land_area_mu = Decimal("30.00")
    established_on = datetime.date(2016, 5, 18)
    address = factory.Sequence(lambda n: f"江西省萍乡市湘东区湘东镇测试村{n % 400 + 1}号")
    phone = "07996543210"
    division = factory.LazyFunction(default_village)


class PropertyFactory(DjangoModelFactory):
    """A property with a 28-character unit number. `owners=[person_or_enterprise, …]` or
    `[(owner, share), …]`; by default one new person owns it whole; `owners=[]` for none."""

    class Meta:
        model = Property
        skip_postgeneration_save = True

    division = factory.LazyFunction(default_village)
    unit_number = factory.LazyAttributeSequence(
        lambda o, n: (
            f"{o.division.code.ljust(12, '0')[:12]}GB{90000 + n % 10000:05d}F{n // 10000 % 10000:04d}0001"
        )
    )
    certificate_number = factory.Sequence(lambda n: f"赣(2024)萍乡市不动产权第{9000000 + n % 10**6:07d}号")
    use = Property.Use.RESIDENTIAL
    area = Decimal("98.50")
    address = factory.Sequence(lambda n: f"江西省萍乡市安源区八一街街道跃进社区跃进路{n % 400 + 1}号1栋201室")
    registered_on = datetime.date(2024, 5, 20)

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = [PersonFactory(division=self.division)]
        for entry in extracted:
            owner, share = entry if isinstance(entry, tuple) else (entry, Decimal(1) / len(extracted))
            PropertyOwner.objects.create(
                property=self,
                person=owner if isinstance(owner, Person) else None,
                enterprise=owner if isinstance(owner, Enterprise) else None,
                share=Decimal(str(share)).quantize(Decimal("0.0001")),
            )
