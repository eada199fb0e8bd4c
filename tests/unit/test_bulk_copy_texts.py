"""portal.bulk sends dates and times to COPY as the text the driver's own dumper gives them,
remembered per distinct value: equal values whose texts differ must never share a text."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer

from portal.bulk import _date_texts, _prepared


def _driver_text(value) -> str:
    return bytes(Transformer().get_dumper(value, PyFormat.TEXT).dump(value)).decode()


def test_equal_instants_in_other_zones_and_folds_keep_their_own_text():
    utc = datetime(2026, 12, 7, 4, 0, tzinfo=timezone.utc)
    shanghai = utc.astimezone(ZoneInfo("Asia/Shanghai"))  # == utc, another text
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)  # the hour that happens twice
    second = first.replace(fold=1)  # == first as the datetimes compare, an hour later
    values = [utc, shanghai, utc.replace(tzinfo=None), first, second, date(2026, 12, 7),
              datetime(2026, 12, 7), utc.replace(microsecond=5), date(1, 1, 1),
              datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9)))]
    text = _date_texts(Transformer())
    for value in values + values[::-1]:
        assert text(value) == _driver_text(value) == str(value)
    assert text(shanghai) != text(utc) and text(second) != text(first)


def test_other_values_pass_unchanged_and_json_columns_are_dumped():
    text = _date_texts(Transformer())
    day = date(2026, 11, 28)
    rows = list(_prepared([(1, day, {"a": [1, 2]}, None, "x")], [2], [1, 3], text))
    assert rows == [[1, "2026-11-28", '{"a": [1, 2]}', None, "x"]]


@given(st.lists(st.one_of(st.dates(), st.datetimes(),
                          st.datetimes(timezones=st.timezones())), max_size=30))
def test_every_text_is_the_drivers(values):
    text = _date_texts(Transformer())
    for value in values + values:
        assert text(value) == _driver_text(value)
