import csv
import datetime

import pytest

from tests.shared_data import shared_file
from yiwang.core import calendar
from yiwang.core.models import CalendarOverride

D = datetime.date


@pytest.mark.django_db
def test_every_2026_notice_date_matches_the_state_council_data():
    """Each date of the 2026 notice (holidays and 调休 working Saturdays/Sundays) from the real data."""
    rows = [
        r
        for r in csv.DictReader(shared_file("holidays/cn_holidays_2007_2026.csv").open())
        if r["date"].startswith("2026")
    ]
    assert len(rows) > 30
    cal = calendar.WorkingDayCalendar()
    for row in rows:
        day = D.fromisoformat(row["date"])
        assert cal.is_working_day(day) == (row["is_off_day"] == "false"), row


@pytest.mark.django_db
def test_national_day_2026_break():
    # 1–7 October off; Saturday 10 October is a working day (调休).
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert calendar.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert calendar.is_working_day(D(2026, 10, 10)) is True
    assert calendar.is_working_day(D(2026, 10, 5)) is False
    assert calendar.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert calendar.working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert calendar.add_working_days(D(2026, 10, 8), -1) == D(2026, 9, 30)
    # day 0 on a holiday is the next working day
    assert calendar.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 8)


@pytest.mark.django_db
def test_year_the_package_does_not_cover_falls_back_to_weekends_and_never_raises():
    coverage = calendar.calendar_coverage()
    uncovered = coverage.last_year + 1
    assert calendar.uncovered_years([coverage.last_year, uncovered]) == [uncovered]
    new_year = D(uncovered, 1, 1)
    first_weekday = new_year + datetime.timedelta(
        days=(7 - new_year.weekday()) % 7 if new_year.weekday() >= 5 else 0
    )
    # weekends only: the first weekday of the year counts as a working day
    assert calendar.is_working_day(first_weekday) is True
    saturday = new_year + datetime.timedelta(days=(5 - new_year.weekday()) % 7)
    assert calendar.is_working_day(saturday) is False
    # across the year boundary: 31 December 2026 (Thursday) + 1 → Friday 1 January 2027 without overrides
    assert calendar.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)


@pytest.mark.django_db
def test_admin_overrides_win_over_package_and_fallback():
    CalendarOverride.objects.create(date=D(2027, 1, 1), is_working_day=False, note="元旦")
    assert calendar.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert calendar.working_days_between(D(2026, 12, 31), D(2027, 1, 4)) == 1
    CalendarOverride.objects.create(date=D(2026, 10, 5), is_working_day=True, note="test")
    assert calendar.is_working_day(D(2026, 10, 5)) is True


@pytest.mark.django_db
def test_admin_page_tells_admins_the_year_is_not_covered(admin_client):
    response = admin_client.get("/admin/core/calendaroverride/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    this_year = datetime.date.today().year
    uncovered = calendar.uncovered_years([this_year, this_year + 1])
    text = response.content.decode()
    assert uncovered, "this test expects at least next year to be uncovered by the installed package"
    for year in uncovered:
        assert str(year) in text
    assert "chinese-calendar" in text
