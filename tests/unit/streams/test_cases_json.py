from datetime import datetime
from zoneinfo import ZoneInfo

from streams.web import case_json


def test_case_times_carry_the_department_zone_like_the_cards():
    row = {"lost_at": datetime(2026, 11, 18, 7, 30), "deal_id": "D-1", "money_rub": 40000}  # naive = UTC
    assert case_json(row, ZoneInfo("Europe/Moscow")) == {
        "lost_at": "2026-11-18T10:30:00+03:00", "deal_id": "D-1", "money_rub": 40000}
