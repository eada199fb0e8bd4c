"""Try limits hold when guesses arrive in parallel (needs PostgreSQL: real concurrent sessions)."""
import os

import pyotp
import pytest
from sqlalchemy import select

from portal.auth import lockout
from portal.auth.codes import CodeCheck, check_code, issue_code
from portal.auth.models import CodePurpose, OneTimeCode
from portal.extensions import db as _db
from portal.staff import services as staff_services
from portal.staff.models import StaffUser
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import run_together

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]

PARALLEL = 12


def _in_parallel(app, work, count=PARALLEL):
    """`work(n)` in `count` threads at once, each in a request context; what they returned."""
    results, errors = run_together(app, work, count, request_context=True)
    assert errors == []
    return results


def test_parallel_wrong_codes_compare_at_most_five_times(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    code_id = issue_code(holder, CodePurpose.RESET).id
    _db.session.commit()
    results = _in_parallel(app, lambda n: check_code(code_id, CodePurpose.RESET,
                                                     f"x{n:05d}").status)
    assert len(results) == PARALLEL
    assert results.count(CodeCheck.WRONG) == app.config["OTP_MAX_ATTEMPTS"] - 1
    _db.session.expire_all()
    assert _db.session.get(OneTimeCode, code_id).attempts == app.config["OTP_MAX_ATTEMPTS"]


def test_parallel_wrong_passwords_all_count_towards_the_lockout(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    holder_id = holder.id
    app.config["LOGIN_LOCKOUT_FAILURES"], saved = 100, app.config["LOGIN_LOCKOUT_FAILURES"]
    try:
        from portal.accounts.models import Cardholder

        _in_parallel(app, lambda n: lockout.note_failure(_db.session.get(Cardholder, holder_id)))
    finally:
        app.config["LOGIN_LOCKOUT_FAILURES"] = saved
    _db.session.expire_all()
    assert _db.session.get(Cardholder, holder_id).failed_logins == PARALLEL


def test_one_totp_code_sent_in_parallel_signs_in_once(app, make_staff):
    staff = make_staff("collector")
    staff_id, code = staff.id, pyotp.TOTP(staff.totp_secret).now()
    results = _in_parallel(app, lambda n: staff_services.check_totp(staff_id, code).status)
    assert results.count(staff_services.StaffLogin.OK) == 1
    assert _db.session.scalar(select(StaffUser.totp_last_step)
                              .where(StaffUser.id == staff_id)) is not None
