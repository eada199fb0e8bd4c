"""Movement ids in feeds and the date rule for old feeds."""
from datetime import date

import pytest

from portal.journal.feed_rules import RowError, validate_row
from portal.journal.rules import (
    MovementIdError, applied_by_old_feed, movement_id, parse_movement_ids,
)
from tests.integration.test_import import feed_row


def test_movement_ids_round_trip_through_a_csv_cell_or_a_json_list():
    assert movement_id(42) == "PM42"
    assert parse_movement_ids("PM42 PM7;pm9, PM42") == (7, 9, 42)
    assert parse_movement_ids(["PM3", "PM1 PM2"]) == (1, 2, 3)
    assert parse_movement_ids("") == () and parse_movement_ids([]) == ()


@pytest.mark.parametrize("value", ["42", "PM", "PM0", "PM-1", "XX12", ["PM1", 2], 5])
def test_anything_but_movement_ids_is_refused(value):
    with pytest.raises(MovementIdError):
        parse_movement_ids(value)


def test_a_feed_row_without_the_field_does_not_say_and_an_empty_one_says_none():
    assert validate_row(feed_row()).applied_portal_ids is None
    assert validate_row(feed_row(applied_portal_ids="")).applied_portal_ids == ()
    assert validate_row(feed_row(applied_portal_ids="PM5 PM6")).applied_portal_ids == (5, 6)
    with pytest.raises(RowError) as excinfo:
        validate_row(feed_row(applied_portal_ids="payment 5"))
    assert "applied_portal_ids: 'payment' is not a movement id" in excinfo.value.reason


def test_old_feed_takes_a_movement_as_applied_only_after_the_lag():
    posted = date(2026, 11, 28)
    assert not applied_by_old_feed(posted, date(2026, 11, 28), 2)
    assert not applied_by_old_feed(posted, date(2026, 11, 29), 2)
    assert applied_by_old_feed(posted, date(2026, 11, 30), 2)
