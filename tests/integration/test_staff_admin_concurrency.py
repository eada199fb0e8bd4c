"""Two administrators removing each other at the same moment: one succeeds, the other is told
it would leave no administrator (needs PostgreSQL: real concurrent sessions and row locks)."""
import os

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.staff import management
from portal.staff.models import Role, StaffUser
from tests.helpers import run_together

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


def _admins_left():
    _db.session.expire_all()
    return [s for s in _db.session.scalars(select(StaffUser)) if s.active and s.has_role(Role.ADMIN)]


@pytest.mark.parametrize("how", ["disable", "drop_role", "mixed"])
def test_two_admins_cannot_remove_each_other_at_once(app, make_staff, how):
    first, second = make_staff("admin"), make_staff("admin")
    ids = (first.id, second.id)

    def work(i):
        other = _db.session.get(StaffUser, ids[1 - i])
        if how == "disable" or (how == "mixed" and i == 0):
            management.set_active(other, False)
        else:
            management.change_roles(other, ["risk"])
        return i

    results, errors = run_together(app, work, 2, request_context=True)
    assert len(results) == 1
    assert [type(e) for e in errors] == [management.LastAdmin]
    assert len(_admins_left()) == 1
