"""Legal steps on the cardholder's timeline: past items with their date, calm whole sentences in
both languages, what the cardholder can do now, never the staff note."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from portal.consequences.services import timelines_for
from portal.extensions import db as _db
from portal.legal import services
from tests.integration.legal_helpers import TODAY, ZH, freeze, late_account, refer

THREATS = ("arrest", "jail", "prison", "criminal", "malicious", "seize", "police", "must pay",
           "恶意", "拘留", "刑事", "逮捕", "警察")


@pytest.fixture()
def chinese_sentences(monkeypatch):
    """The zh_Hans catalogue as the lead merges it: these msgids in Chinese."""
    import flask_babel

    real = flask_babel.get_translations

    class Merged:
        def __init__(self, base):
            self.base = base

        def ugettext(self, s):
            return ZH.get(s) or self.base.ugettext(s)

        def ungettext(self, s, p, n):
            return self.base.ungettext(s, p, n)

        def upgettext(self, c, s):
            return self.base.upgettext(c, s)

        def unpgettext(self, c, s, p, n):
            return self.base.unpgettext(c, s, p, n)

    monkeypatch.setattr(flask_babel, "get_translations", lambda: Merged(real()))


@pytest.fixture()
def with_steps(make_cardholder, make_account, make_staff, monkeypatch, clock):
    freeze(clock)

    def build(locale="en"):
        holder = make_cardholder(password="Correct-Horse-42", locale=locale)
        account = late_account(make_account, holder)
        refer(account)
        staff = make_staff("legal")
        for kind, on, amount, extra in (
                ("formal_notice_sent", date(2026, 11, 2), None, {}),
                ("claim_filed", date(2026, 11, 10), 1_200_000,
                 {"court_reference": "Pudong People's Court (2026) Hu 0115 Min Chu 123"}),
                ("hearing_scheduled", date(2026, 11, 12), None, {"hearing_on": date(2027, 1, 15)}),
                ("judgment_entered", date(2026, 11, 25), 1_235_000, {})):
            services.record_action(account, staff, services.StepInput(
                kind=kind, occurred_on=on, amount=amount,
                note="Debtor evasive on the phone; counsel thinks we win.", **extra), TODAY)
        _db.session.commit()
        return holder, account
    return build


def _timeline_page(client, login_as, holder, account):
    login_as(client, holder)
    response = client.get(f"/accounts/{account.id}/timeline")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_legal_step_is_a_dated_past_item_in_plain_english(client, login_as, with_steps):
    holder, account = with_steps("en")
    page = _timeline_page(client, login_as, holder, account)
    for sentence in (
            "On November 2, 2026 our legal team sent you a formal notice about the overdue amount.",
            "On November 10, 2026 we filed a claim for CN¥12,000.00 with the court.",
            "On November 12, 2026 the court set a hearing for January 15, 2027.",
            "On November 25, 2026 the court entered a judgment for CN¥12,350.00."):
        assert sentence in page, page[page.find("past-title"):page.find("past-title") + 2500]
    assert "Court and case reference: Pudong People&#39;s Court (2026) Hu 0115 Min Chu 123" in page
    assert 'datetime="2026-11-10"' in page
    assert "What you can do now" in page
    assert f'href="/accounts/{account.id}/plans/offers"' in page
    assert f'href="/accounts/{account.id}/disputes/new"' in page
    assert "Debtor evasive" not in page and "counsel thinks" not in page
    lowered = page.lower()
    assert not [word for word in THREATS if word in lowered]


def test_the_steps_read_in_chinese_with_chinese_dates_and_amounts(client, login_as, with_steps,
                                                                 chinese_sentences):
    holder, account = with_steps("zh_Hans")
    page = _timeline_page(client, login_as, holder, account)
    assert 'lang="zh-Hans"' in page
    assert "2026年11月10日，我们向法院提起诉讼，请求金额为¥12,000.00。" in page
    assert "2026年11月25日，法院作出判决，判决金额为¥12,350.00。" in page
    assert "法院及案号：" in page and "您现在可以做什么" in page
    assert "Debtor evasive" not in page
    assert not [word for word in THREATS if word in page]


def test_a_corrected_step_leaves_the_timeline_and_the_note_never_shows(client, login_as,
                                                                      with_steps, make_staff):
    holder, account = with_steps("en")
    from portal.legal.models import LegalAction
    from sqlalchemy import select

    judgment = _db.session.scalar(select(LegalAction).where(
        LegalAction.account_id == account.id, LegalAction.kind == "judgment_entered"))
    services.correct_action(account, make_staff("legal"), judgment.id, "Wrong case.", TODAY)
    _db.session.commit()
    page = _timeline_page(client, login_as, holder, account)
    assert "the court entered a judgment" not in page and "Wrong case." not in page
    assert "we filed a claim for CN¥12,000.00" in page


def test_a_step_after_the_day_shown_is_not_yet_on_the_timeline(with_steps):
    _, account = with_steps("en")
    past = timelines_for([account], date(2026, 11, 11))[account.id].past
    kinds = [i.kind for i in past if i.kind in ("formal_notice_sent", "claim_filed",
                                                "hearing_scheduled", "judgment_entered")]
    assert kinds == ["formal_notice_sent", "claim_filed"]


def test_nothing_to_do_box_without_legal_steps(client, login_as, make_cardholder, make_account,
                                               monkeypatch, clock):
    freeze(clock)
    holder = make_cardholder(password="Correct-Horse-42")
    account = late_account(make_account, holder)
    refer(account)
    page = _timeline_page(client, login_as, holder, account)
    assert "What you can do now" not in page
    assert "your account was passed to our legal team" in page


def test_timelines_for_reads_legal_steps_in_one_query_for_any_number_of_accounts(
        make_account, make_staff):
    staff = make_staff("legal")

    def accounts(n):
        made = []
        for _ in range(n):
            account = late_account(make_account)
            services.record_action(account, staff, services.StepInput(
                kind="claim_filed", occurred_on=date(2026, 11, 1)), TODAY)
            made.append(account)
        _db.session.commit()
        return made

    def count(batch):
        seen = []

        def listener(conn, cursor, statement, params, context, executemany):
            if "legal_action" in statement:
                seen.append(statement)
        event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            result = timelines_for(batch, TODAY)
        finally:
            event.remove(_db.engine, "before_cursor_execute", listener)
        assert all(any(i.kind == "claim_filed" for i in t.past) for t in result.values())
        return len(seen)

    assert count(accounts(3)) == count(accounts(30)) == 1
