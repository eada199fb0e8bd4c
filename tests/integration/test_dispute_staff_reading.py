"""What customer service reads (issue 13, item 13): the cardholder's messages labelled as the
cardholder's, every time with its zone, and closed disputes listed page by page."""
from __future__ import annotations

import re
from datetime import timedelta

from portal.core import pagination
from portal.disputes import services
from portal.extensions import db
from tests.dispute_helpers import join, raise_dispute


def test_staff_read_the_cardholder_s_messages_as_the_cardholder_s(client, login_as, make_account,
                                                                  make_cardholder, make_staff):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    holder = make_cardholder(full_name="Wang Fang", password="Correct-Horse-42")
    dispute = raise_dispute(make_account(holder), description="The late fee is wrong.")
    login_as(client, agent)
    page = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    assert "The cardholder, Wang Fang, wrote on" in page and "You wrote" not in page
    login_as(client, holder)
    own = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "You wrote on" in own and "The cardholder" not in own


def test_every_time_on_the_staff_dispute_pages_names_its_zone(client, login_as, make_account,
                                                              make_staff):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    dispute = raise_dispute(make_account())
    login_as(client, agent)
    for locale, when, zone in (
            ("en", r"November 28, 2026, 1:0\d\s?AM Coordinated Universal Time",
             "Coordinated Universal Time"),
            ("zh_Hans", r"2026年11月28日 01:0\d 协调世界时", "协调世界时")):
        client.set_cookie("portal_locale", locale)
        page = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
        raised = re.search(r"<dd>([^<]*)</dd>", page[page.index("Raised" if locale == "en" else "提出"):])
        assert re.fullmatch(when, raised.group(1)), raised.group(1)
        thread = page[page.index('<ol class="thread">'):]
        assert re.search(when, thread)
        listing = client.get("/staff/disputes/?view=mine").get_data(as_text=True)
        assert re.search(rf'<span class="muted">[^<]* {zone}</span>', listing)


def test_closed_disputes_are_listed_most_recent_first_page_by_page(client, login_as, make_account,
                                                                   make_staff, clock, monkeypatch):
    monkeypatch.setattr(pagination, "PER_PAGE", 2)
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    still_open = raise_dispute(make_account())
    closed = []
    for _ in range(3):
        dispute = raise_dispute(make_account())
        clock.shift(timedelta(hours=1))
        services.withdraw(dispute, dispute.cardholder)
        db.session.commit()
        closed.append(dispute)
    login_as(client, agent)
    open_page = client.get("/staff/disputes/?view=queue").get_data(as_text=True)
    assert f">D-{still_open.id}<" in open_page and f">D-{closed[0].id}<" not in open_page
    assert re.search(r"href=\"/staff/disputes/\?state=closed&amp;view=queue\"", open_page)  # the tab

    first = client.get("/staff/disputes/?view=queue&state=closed").get_data(as_text=True)
    shown = re.findall(r">D-(\d+)</a>", first)
    assert shown == [str(closed[2].id), str(closed[1].id)]
    assert "Withdrawn" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/staff/disputes/?view=queue&state=closed&page=2").get_data(as_text=True)
    assert re.findall(r">D-(\d+)</a>", second) == [str(closed[0].id)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert client.get("/staff/disputes/?view=queue&state=closed&page=x").status_code == 200
