"""The file transport's email bytes (`transports.email_bytes`) are those `build_email` gives
the same message: headers parsed and folded by the same policy (some cached), the body
encoded as `set_content` encodes it."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from unittest import mock

from hypothesis import given, settings, strategies as st

from portal.outbox import transports

WHEN = datetime(2026, 12, 7, 9, 30, tzinfo=timezone.utc)


def _outcome(write):
    try:
        return write()
    except Exception as exc:  # noqa: BLE001 - the same refusal (a line break in a header)
        return type(exc)


def _both(subject, body, recipient="holder@example.com", sender="Portal <noreply@example.com>"):
    message = SimpleNamespace(id=42, recipient=recipient, subject=subject, body=body,
                              created_at=WHEN)
    with mock.patch.object(transports, "make_msgid", return_value="<1.2.3.42@localhost>"):
        return (_outcome(lambda: transports.email_bytes(message, sender)),
                _outcome(lambda: transports.build_email(message, sender).as_bytes()))


def test_a_receipt_in_english_and_chinese_is_written_as_build_email_writes_it():
    for subject, body in [
            ("We received your payment of CN¥10.00",
             "Thank you. Your payment of CN¥10.00 to the card account •••• 4242 has been "
             "received and applied. Receipt number: R-20261207-000123."),
            ("我们已收到您的 ¥10.00 还款",
             "感谢您。您向卡账户 •••• 4242 支付的 ¥10.00 款项已收到并入账。收据编号：R-1。"),
            ("Short", "one line\ntwo lines\n\nfour"),
            ("", ""),
            (None, "x" * 200),
            ("A subject long enough to be folded over more than one line by the policy, "
             "surely, with 中文 in it too", "é\n" * 30)]:
        fast, built = _both(subject, body)
        assert fast == built


def test_a_recipient_with_a_name_and_another_sender_are_written_alike():
    fast, built = _both("Hi", "Body", recipient="Li Lei <li.lei@example.com>",
                        sender="还款门户 <noreply@example.com>")
    assert fast == built


@settings(max_examples=300, deadline=None)
@given(subject=st.text(max_size=120), body=st.text(max_size=400))
def test_any_subject_and_body_give_build_emails_bytes(subject, body):
    fast, built = _both(subject, body)
    assert fast == built
