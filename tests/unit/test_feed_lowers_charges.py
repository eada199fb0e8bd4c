"""Which feed rows may lower what the nightly run charged after their date (and so ask for
corrections): lowering, never raising."""
from datetime import date

import pytest

from portal.journal.rowwise import lowers_charges

OCT, NOV = date(2026, 10, 19), date(2026, 11, 19)


@pytest.mark.parametrize("created, changes, posted, expected", [
    (False, {}, {"principal": -50_000}, True),  # paid at the bank
    (False, {}, {"fees": -2_500}, True),  # the issuer took a fee back
    (False, {"minimum_due": (50_000, 0)}, {}, True),
    (False, {"oldest_unpaid_due_date": (OCT, None)}, {}, True),  # nothing overdue any more
    (False, {"oldest_unpaid_due_date": (OCT, NOV)}, {}, True),  # the older cycle was paid
    (False, {}, {"principal": 20_000, "interest": 215}, False),  # raised: nothing to take back
    (False, {"minimum_due": (50_000, 80_000)}, {}, False),  # a new statement
    (False, {"oldest_unpaid_due_date": (None, NOV)}, {}, False),  # overdue again
    (False, {"oldest_unpaid_due_date": (NOV, OCT)}, {}, False),
    (False, {"card_last4": ("0042", "0043")}, {}, False),
    (True, {}, {"principal": -50_000}, False),  # a first load: nothing charged yet
])
def test_only_a_lowering_row_asks_for_corrections(created, changes, posted, expected):
    assert lowers_charges(created, changes, posted) is expected
