"""The notice PDF a cardholder downloads says how to object, in their language."""
from datetime import date

import pytest
from flask_babel import force_locale, gettext

from tests.integration.account_pages_helpers import freeze_today, make_notice, use_timeline
from tests.pdf_reading import pdf_text, squeezed

# The letter's "If you disagree" section (portal/notices/letters.py), as msgids.
HEADING = "If you disagree"
HOW_TO_OBJECT = (
    "If you think this amount is wrong, or you want to object to this notice, please tell "
    "us. You can raise a dispute in the repayment portal or call the number on the back "
    "of your card. Tell us why, and send any evidence you have, such as receipts or bank "
    "statements.",
    "We will check what you send us and reply to you. While we review a dispute about "
    "the amount, we pause collection of the amount in question.",
)


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_the_downloaded_notice_says_how_to_object(app, client, login_as, make_cardholder,
                                                  make_account, monkeypatch, locale, clock):
    freeze_today(clock)
    use_timeline(monkeypatch, build=lambda account: None)
    holder = make_cardholder(locale=locale)
    account = make_account(holder, oldest_unpaid_due_date=date(2026, 10, 1))
    notice = make_notice(account)
    login_as(client, holder)
    response = client.get(f"/accounts/{account.id}/notices/{notice.id}.pdf")
    assert response.status_code == 200

    text = squeezed(pdf_text(response.data))
    with app.test_request_context(), force_locale(locale):
        heading = squeezed(gettext(HEADING))
        paragraphs = [squeezed(gettext(msgid)) for msgid in HOW_TO_OBJECT]
    if locale != "en":  # the catalogue has them: the letter is not English with a Chinese title
        assert heading != squeezed(HEADING) and paragraphs[0] != squeezed(HOW_TO_OBJECT[0])
    assert heading in text
    for paragraph in paragraphs:
        assert text.index(paragraph) > text.index(heading)
