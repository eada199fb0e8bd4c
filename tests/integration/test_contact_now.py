"""`contact_now`: the contact rules asked, for a person about to call or write, whether the
cardholder may be reached now (the same rules the outbox applies, never a second copy)."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from portal.contact import services as contact
from portal.extensions import db
from portal.outbox.models import Channel, MessageKind
from portal.outbox.services import queue_sms
from tests.dispute_helpers import raise_dispute

UTC = timezone.utc
NIGHT = datetime(2026, 12, 30, 18, 30, tzinfo=UTC)  # 02:30 on 31 Dec in Shanghai
NOON = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_quiet_hours_in_the_cardholder_s_zone_say_when_contact_may_start(make_account):
    account = make_account(oldest_unpaid_due_date=date(2026, 11, 1))
    night = contact.contact_now(account.cardholder, account, NIGHT)
    assert (night.local.hour, night.local.minute, str(night.local.tzinfo)) == (2, 30, "Asia/Shanghai")
    assert night.window == (time(8), time(21))  # the cn profile's hours
    assert not night.in_hours and not night.allowed
    assert night.next_window == datetime(2026, 12, 31, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert night.messages["email"].not_before == night.next_window
    noon = contact.contact_now(account.cardholder, account, NOON)
    assert noon.allowed and noon.next_window is None and noon.messages["sms"].not_before == NOON


def test_opt_outs_caps_and_holds_come_from_the_contact_rules(make_account, clock):
    clock.move_to(NOON)
    account = make_account(oldest_unpaid_due_date=date(2026, 11, 1))
    holder = account.cardholder
    contact.set_preference(holder, Channel.EMAIL, on=False, source="page")
    for n in range(7):  # the cap: 7 collection texts in 7 days
        queue_sms(holder.phone, f"Reminder {n}", purpose="reminder", cardholder_id=holder.id,
                  kind=MessageKind.COLLECTION, account_id=account.id)
    db.session.commit()
    now = contact.contact_now(holder, account)
    assert now.opted_out == ("email",) and now.messages["email"].suppressed == "opted_out"
    assert now.messages["sms"].suppressed == "cap"
    assert now.allowed and not now.held  # a call is not a message: no cap, no opt-out
    raise_dispute(account, category="already_paid", amount=50_000)
    held = contact.contact_now(holder, account)
    assert held.held and not held.allowed and held.in_hours
