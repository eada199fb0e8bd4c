"""Phone numbers written the national way, read with the region of the cardholder's account
(issue 13, item 2): `13800138001` for a `cn` account, `(212) 555-0103` for a `us` one, at
sign-in and password reset; hostile input is still refused with the usual message."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.services import password_inputs
from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD
from tests.helpers import post_form

WRONG = "The mobile number, email or password is not right"
NEUTRAL = "If we know this mobile number or email, we have sent a code"


@pytest.fixture()
def cn_holder(make_cardholder, make_account):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, phone="+8613800138001")
    make_account(holder, profile="cn")
    return holder


@pytest.fixture()
def us_holder(make_cardholder, make_account):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, phone="+12125550103",
                             timezone="America/New_York")
    make_account(holder, profile="us", currency="USD")
    return holder


def _login(client, identity, password=CARDHOLDER_PASSWORD):
    return post_form(client, "/login", {"identity": identity, "password": password})


@pytest.mark.parametrize("typed", ["13800138001", "138 0013 8001", "138-0013-8001",
                                   "+86 138 0013 8001", "008613800138001"])
def test_chinese_mobile_as_typed_signs_in(client, cn_holder, typed):
    assert _login(client, typed).headers.get("Location") == "/home"


@pytest.mark.parametrize("typed", ["(212) 555-0103", "212-555-0103", "212.555.0103",
                                   "1 212 555 0103", "+1 (212) 555-0103"])
def test_american_number_as_typed_signs_in(client, us_holder, typed):
    assert _login(client, typed).headers.get("Location") == "/home"


def test_a_national_number_is_read_only_in_the_accounts_region(client, make_cardholder,
                                                                make_account):
    # An American number on file, but the only account is a Chinese one: "(212) 555-0103"
    # read as a Chinese number (+86 21 2555 0103, Shanghai) is somebody else's.
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, phone="+12125550103")
    make_account(holder, profile="cn")
    assert WRONG in _login(client, "(212) 555-0103").get_data(as_text=True)
    assert _login(client, "+1 212 555 0103").headers.get("Location") == "/home"


def test_reset_by_a_nationally_written_number_sends_the_code(client, us_holder, outbox):
    response = post_form(client, "/forgot", {"identity": "(212) 555-0103"})
    assert response.headers["Location"] == "/forgot/code"
    assert NEUTRAL in client.get("/forgot/code").get_data(as_text=True)
    assert outbox()[-1]["to"] == "+12125550103"


@pytest.mark.parametrize("hostile", [
    "13800138001' OR '1'='1", "13800138001\x00", "１３８００１３８００１x", "1" * 250,
    "(212) 555-0103; DROP TABLE cardholder", "+86 138 0013 8001 ext. <script>", "()---...",
    "0" * 20])
def test_hostile_input_is_refused_cleanly_and_changes_nothing(client, cn_holder, us_holder,
                                                              hostile):
    before = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = _login(client, hostile)
    assert response.status_code in (200, 422)
    assert client.get("/home").status_code == 302  # still signed out
    _db.session.expire_all()
    assert cn_holder.failed_logins == 0 and us_holder.failed_logins == 0
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) <= before + 1


def test_a_password_may_not_hold_the_number_as_written_at_home(us_holder):
    assert "2125550103" in password_inputs(us_holder)
