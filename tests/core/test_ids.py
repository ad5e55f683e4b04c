import datetime

import pytest
from django.utils import translation
from stdnum.cn import ric

from yiwang.core.ids import IdentifierError, resident_id_build, resident_id_parse, uscc_build, uscc_validate

# GB 11643-1999's printed example (check character X), and a Pingxiang 安源区 number whose
# check digit was worked out by hand with the standard's weights (ISO 7064 MOD 11-2).
GB_EXAMPLE_FEMALE_X = "11010519491231002X"
ANYUAN_MALE = "360302198001010014"


def test_gb_examples_parse_with_birth_date_sex_and_place():
    male = resident_id_parse(ANYUAN_MALE)
    assert male.birth_date == datetime.date(1980, 1, 1)
    assert male.sex == "M"
    assert male.birthplace_code == "360302"
    female = resident_id_parse(GB_EXAMPLE_FEMALE_X.lower())
    assert female.number == GB_EXAMPLE_FEMALE_X  # compacted, upper-case X
    assert female.birth_date == datetime.date(1949, 12, 31)
    assert female.sex == "F"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("360302198001010015", "check digit"),  # last digit changed
        ("36030219800101001", "18 characters"),
        ("3603021980010100A4", "not allowed"),
        ("360302199002300014", "impossible birth date"),  # 30 February
        ("360302209901010014", "impossible birth date"),  # in the future
        ("999999199001010011", "division"),
        ("369999199001010011", "division"),  # a province with no such county,  # no such county
    ],
)
def test_invalid_resident_ids_say_what_is_wrong(number, fragment):
    if fragment not in ("check digit", "18 characters", "not allowed"):
        # Give it a right check digit, so that what the case is about is what fails.
        number = number[:17] + ric.calc_check_digit(number[:17] + "0")
    with translation.override("en"), pytest.raises(IdentifierError) as error:
        resident_id_parse(number)
    assert fragment in error.value.message


def test_built_ids_round_trip():
    number = resident_id_build("360302", datetime.date(1990, 5, 17), 123, "F")
    parsed = resident_id_parse(number)
    assert (parsed.birthplace_code, parsed.birth_date, parsed.sex) == (
        "360302",
        datetime.date(1990, 5, 17),
        "F",
    )
    assert int(number[16]) % 2 == 0


def test_uscc_validates_real_check_character():
    assert uscc_validate("91110000600037341L") == "91110000600037341L"
    with pytest.raises(IdentifierError):
        uscc_validate("91110000600037341M")
    with pytest.raises(IdentifierError):
        uscc_validate("9111000060003734")


def test_uscc_build_is_valid():
    code = uscc_build("360302", "MA35ABCD0")
    assert len(code) == 18
    assert uscc_validate(code) == code


def test_code_older_than_the_county_is_accepted_for_people_born_before_it():
    # 安源区 (360302) exists since 1985; people born in 1950 there hold 360302 numbers.
    number = resident_id_build("360302", datetime.date(1950, 3, 8), 7, "M")
    assert resident_id_parse(number).birth_date == datetime.date(1950, 3, 8)
