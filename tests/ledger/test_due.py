"""Due dates in calendar, working and school days (chinesecalendar base, fallback outside its years)."""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from engine.calendar import BusinessCalendar
from engine.runtime.hooks import TaskContext
from ledger.due import make_due_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def task(props, now, data=None):
    return TaskContext(instance_id=1, process_key="p", element_id="t", name="t", lane=None,
                       properties=props, data=data or {}, now=now, evaluate=lambda expr: data[expr])


def test_national_day_2025_is_skipped_and_the_makeup_saturday_counts():
    calendar = BusinessCalendar(SHANGHAI)
    assert [calendar.is_working_day(date(2025, 10, d)) for d in (1, 8, 9, 11, 12)] == [False, False, True, True, False]
    assert calendar.add_days(date(2025, 9, 30), 1) == date(2025, 10, 9)     # 10-01..10-08 off
    assert calendar.add_days(date(2025, 10, 10), 1) == date(2025, 10, 11)   # make-up Saturday
    assert calendar.business_days_between(date(2025, 9, 29), date(2025, 10, 12)) == 5
    # Ready on a day off: the next working day is the first of the count.
    assert calendar.add_days(date(2025, 10, 5), 3) == date(2025, 10, 11)     # 10-09, 10-10, make-up 10-11
    assert calendar.add_days(date(2025, 11, 30), 3) == date(2025, 12, 3)     # Sun → Wed
    assert calendar.add_days(date(2025, 11, 30), 0) == date(2025, 12, 1)


def test_fallback_outside_known_years_is_monday_to_friday_and_logged(caplog):
    calendar = BusinessCalendar(SHANGHAI)
    with caplog.at_level(logging.WARNING):
        assert calendar.add_days(date(2031, 1, 3), 1) == date(2031, 1, 6)  # Friday → Monday
    assert calendar.uses_fallback(2031) and not calendar.uses_fallback(2025)
    assert "fall back to Monday-Friday" in caplog.text


def test_school_overrides_apply_to_school_days_only():
    calendar = BusinessCalendar(SHANGHAI, overrides=lambda unit: {date(2025, 3, 4): False} if unit == "zx" else {})
    assert calendar.add_days(date(2025, 3, 3), 1, "school", "zx") == date(2025, 3, 5)
    assert calendar.add_days(date(2025, 3, 3), 1, "working", "zx") == date(2025, 3, 4)


def test_due_policy_reads_dueIn_and_dueDays():
    policy = make_due_policy(BusinessCalendar(SHANGHAI))
    ready = datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc)                 # 10:00 in Shanghai
    end_of = lambda d: datetime(2025, d.month, d.day, 23, 59, 59, tzinfo=SHANGHAI)  # noqa: E731
    assert policy(task({"dueIn": '"P3D"', "dueDays": "working"}, ready)) == end_of(date(2025, 10, 11))
    assert policy(task({"dueIn": '"P0D"', "dueDays": "working"}, ready)) == end_of(date(2025, 9, 30))
    assert policy(task({"dueIn": '"P3D"'}, ready)) == datetime(2025, 10, 3, 2, 0, tzinfo=timezone.utc)
    assert policy(task({"dueIn": '"PT8H"', "dueDays": "working"}, ready)) == datetime(2025, 9, 30, 10, 0, tzinfo=timezone.utc)
    assert policy(task({"dueIn": "deadline"}, ready, {"deadline": "2025-10-20"})) == end_of(date(2025, 10, 20))
    assert policy(task({"dueIn": '"P1M"', "dueDays": "working"}, ready)) is None   # logged, not raised
    assert policy(task({}, ready)) is None
