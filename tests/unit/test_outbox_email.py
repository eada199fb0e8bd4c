"""Receipts built for less (portal/outbox/transports.py): header classes made once, the sender
parsed once, the date given as a datetime; every message is the one the standard library's
default policy builds, byte for byte."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from types import SimpleNamespace

from hypothesis import given, settings, strategies as st

from portal.outbox import transports

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=120)
_SUBJECT = st.one_of(_TEXT, st.sampled_from(["付款已收到 Payment received", "", "x" * 200,
                                             "Your payment of CNY 1,234.56 was posted"]))
_BODY = st.lists(st.one_of(_TEXT, st.just("您好，我们已收到您的付款。")), max_size=6).map("\n".join)
_ADDRESS = st.sampled_from(["a@example.com", "cardholder.123+tag@mail.example.cn",
                            "Zhang San <zs@example.com>"])
_SENDER = st.sampled_from(["Card Services <noreply@bank.example>", "noreply@bank.example",
                           "银行卡中心 <noreply@bank.example>"])


def _reference(message, sender: str) -> bytes:
    """The message as `build_email` built it before: the default policy, every header parsed."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = "<fixed@portal>"
    mail.set_content(message.body)
    return mail.as_bytes()


@settings(max_examples=150, deadline=None)
@given(subject=_SUBJECT, body=_BODY, recipient=_ADDRESS, sender=_SENDER,
       seconds=st.integers(0, 10 ** 9), message_id=st.integers(1, 10 ** 9))
def test_a_message_is_the_default_policys_byte_for_byte(subject, body, recipient, sender,
                                                       seconds, message_id):
    created = datetime(1990, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    message = SimpleNamespace(id=message_id, recipient=recipient, subject=subject, body=body,
                              created_at=created)
    original = transports.make_msgid
    transports.make_msgid = lambda idstring=None: "<fixed@portal>"
    try:
        built = transports.build_email(message, sender).as_bytes()
    finally:
        transports.make_msgid = original
    assert built == _reference(message, sender)


def test_each_header_class_is_made_once():
    registry = transports.EMAIL_POLICY.header_factory
    assert registry["Subject"] is registry["subject"] is registry["SUBJECT"]
    assert registry["To"] is not registry["Subject"]
