"""Staff pages carry the staff footer, not the cardholder's; roles show by name in the
reader's language, never by their code (issue 13, item 16)."""
from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from tests.clock import TODAY
from tests.integration.plan_helpers import agree, spec

CARDHOLDER_FOOTER = "Call the number on the back of your card."
STAFF_FOOTER = "Staff workspace."


def test_staff_pages_show_the_staff_footer(client, login_as, make_staff):
    assert STAFF_FOOTER in client.get("/staff/login").get_data(as_text=True)
    login_as(client, make_staff("collector"))
    for path in ("/staff/collections", "/staff/plans", "/staff/collections/my-accounts"):
        page = client.get(path).get_data(as_text=True)
        assert STAFF_FOOTER in page and CARDHOLDER_FOOTER not in page, path


def test_cardholder_pages_keep_the_cardholder_footer(client, login_as, make_account):
    assert CARDHOLDER_FOOTER in client.get("/login").get_data(as_text=True)
    account = make_account()
    login_as(client, account.cardholder)
    page = client.get("/home").get_data(as_text=True)
    assert CARDHOLDER_FOOTER in page and STAFF_FOOTER not in page


def test_role_a_proposal_needs_is_named_in_chinese(app, client, login_as, make_staff,
                                                   make_account):
    account = make_account(principal=500_000, interest=20_000, fees=15_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    with app.test_request_context():
        plan = agree(account, spec(count=24), source="proposal")
        db.session.commit()
    assert plan.required_role == "collector"
    login_as(client, make_staff("collector"))
    client.set_cookie("portal_locale", "zh_Hans")
    for path in ("/staff/plans/review", f"/staff/plans/{plan.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "催收员" in page and ">collector<" not in page and "：collector" not in page, path
        assert "员工工作台" in page


def test_each_staff_menu_follows_the_roles_and_the_language(client, login_as, make_staff):
    """The menus are kept per process by language and roles (portal.core.nav): a collector,
    then a risk analyst, then the collector in Chinese each see their own menu."""
    def menu():
        page = client.get("/staff/collections/my-accounts").get_data(as_text=True)
        return page.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]

    collector, risk = make_staff("collector"), make_staff("risk", "collector")
    login_as(client, collector)
    first = menu()
    assert "Plan proposals" in first and "Plan limits" not in first
    client.post("/staff/logout")
    login_as(client, risk)
    assert "Plan limits" in menu() and "Plan proposals" in menu()
    client.post("/staff/logout")
    login_as(client, collector)
    assert menu() == first
    client.set_cookie("portal_locale", "zh_Hans")
    assert "Plan proposals" not in menu() and menu() != first
