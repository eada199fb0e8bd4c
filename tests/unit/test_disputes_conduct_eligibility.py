"""The conduct rule in one function: a conduct complaint only in a queue managers see, and no
collector (whatever other roles they hold) in such a queue."""
import pytest

from portal.disputes.data import CATEGORIES
from portal.disputes.models import DisputeQueue
from portal.disputes.routing import conduct_eligible
from portal.staff.models import Role, StaffRole, StaffUser


def staff(*roles):
    return StaffUser(active=True, role_rows=[StaffRole(role=Role(r)) for r in roles])


MANAGERS = DisputeQueue(code="conduct", managers_only=True)
OPEN_TO_ALL = DisputeQueue(code="billing", managers_only=False)


def test_a_conduct_complaint_fits_only_a_queue_managers_see():
    assert conduct_eligible(MANAGERS, category="conduct_complaint")
    assert not conduct_eligible(OPEN_TO_ALL, category="conduct_complaint")


@pytest.mark.parametrize("category", [c for c in CATEGORIES if c != "conduct_complaint"])
def test_other_categories_fit_any_queue(category):
    assert conduct_eligible(MANAGERS, category=category)
    assert conduct_eligible(OPEN_TO_ALL, category=category)


@pytest.mark.parametrize("roles", [("collector",), ("collector", "customer_service"),
                                   ("collector", "collections_manager")])
def test_a_collector_never_fits_a_managers_queue_whatever_else_they_are(roles):
    assert not conduct_eligible(MANAGERS, staff=staff(*roles))
    assert not conduct_eligible(MANAGERS, category="conduct_complaint", staff=staff(*roles))
    assert conduct_eligible(OPEN_TO_ALL, staff=staff(*roles))


@pytest.mark.parametrize("roles", [("customer_service",), ("collections_manager",),
                                   ("legal",)])
def test_anyone_else_fits_a_managers_queue_as_far_as_this_rule_goes(roles):
    assert conduct_eligible(MANAGERS, staff=staff(*roles))
    assert conduct_eligible(MANAGERS, category="conduct_complaint", staff=staff(*roles))


def test_both_halves_are_judged_together():
    agent = staff("customer_service")
    assert not conduct_eligible(OPEN_TO_ALL, category="conduct_complaint", staff=agent)
    assert conduct_eligible(OPEN_TO_ALL, category="wrong_amount", staff=agent)


def test_nothing_to_judge_fits():
    assert conduct_eligible(MANAGERS) and conduct_eligible(OPEN_TO_ALL)
