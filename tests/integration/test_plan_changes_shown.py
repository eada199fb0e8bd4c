"""Issue 16's loose ends: a change to an agreed plan shows on the account timeline in both
languages, the missed-payment reminder asks for everything missed and due (and never for a date
a delay moved), and the cardholder's plan page marks payments made early."""
from datetime import date

from portal.extensions import db as _db
from tests.integration.plan_helpers import agree
from tests.integration.test_plan_servicing import _confirm, kept  # noqa: F401 (fixture)


def _timeline(client, plan):
    return client.get(f"/accounts/{plan.account_id}/timeline").text


def test_plan_changes_show_on_the_account_timeline(client, login_as, kept):  # noqa: F811
    login_as(client, kept.account.cardholder)
    assert _confirm(client, kept, kind="delay", seq=1, new_date="2026-12-12").status_code == 302
    assert _confirm(client, kept, kind="skip", seq=3).status_code == 302
    assert _confirm(client, kept, kind="date_change", new_date="2026-12-15").status_code == 302
    page = _timeline(client, kept)
    assert "On November 28, 2026 payment 1 of your plan was delayed to December 12, 2026." in page
    assert ("On November 28, 2026 payment 3 of your plan was skipped and added at the end of "
            "the plan.") in page
    assert ("On November 28, 2026 the payments of your plan still to come were moved to start "
            "on December 15, 2026.") in page


def test_plan_changes_on_the_timeline_read_in_chinese(client, login_as, make_cardholder,
                                                       make_account):
    holder = make_cardholder(password="Correct-Horse-42", locale="zh_Hans")
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    plan = agree(account)
    _db.session.commit()
    login_as(client, holder)
    assert _confirm(client, plan, kind="delay", seq=1, new_date="2026-12-12").status_code == 302
    assert _confirm(client, plan, kind="skip", seq=3).status_code == 302
    page = _timeline(client, plan)
    assert "2026年11月28日，您计划的第 1 期还款延期至2026年12月12日。" in page
    assert "2026年11月28日，您计划的第 3 期还款已跳过，并加到计划末尾。" in page
    assert "was delayed" not in page
