"""Messages to the cardholder about payments, in their language, through the outbox."""
from __future__ import annotations

from babel.dates import format_date
from flask_babel import force_locale, gettext as _

from portal.core.urls import external_url
from portal.domain.money import format_money
from portal.links import services as links
from portal.links.models import PAY_INSTALMENT
from portal.outbox.models import MessageKind
from portal.outbox.services import (queue_to_cardholder, queue_transactional,
                                    transactional_params)
from portal.payments import plan_link


def _link(payment) -> str:
    return external_url("payments.status", payment_id=payment.id)


def _send(payment, subject_fn, body_fn, purpose, kind=MessageKind.TRANSACTIONAL):
    return _send_to(payment.account.cardholder, payment.account_id, payment.amount,
                    payment.currency, subject_fn, body_fn, purpose, kind)


def _send_to(holder, account_id, amount, currency, subject_fn, body_fn, purpose,
             kind=MessageKind.TRANSACTIONAL):
    subject, body = _compose(holder, amount, currency, subject_fn, body_fn)
    return queue_to_cardholder(holder, subject, body, purpose=purpose, kind=kind,
                               account_id=account_id)


def _compose(holder, amount, currency, subject_fn, body_fn) -> tuple[str, str]:
    """Subject and body in the cardholder's language, the amount formatted for it."""
    with force_locale(holder.locale or "en"):
        shown = format_money(amount, currency, holder.locale or "en")
        return subject_fn(shown), body_fn(shown)


def payment_confirmed(payment) -> None:
    posting_confirmed(payment.account.cardholder, payment.account_id, payment.account.masked_card,
                      payment.amount, payment.currency, payment.receipt_number)


def posting_confirmed(holder, account_id: int, card: str, amount: int, currency: str,
                      receipt: str) -> None:
    """The confirmation of a posted payment, from plain values (`holder` needs id, email,
    phone and locale). Transactional: written without an ORM object (`queue_transactional`)."""
    subject, body = confirmation(holder, card, amount, currency, receipt)
    queue_transactional(holder, subject, body, purpose="payment", account_id=account_id)


def confirmation_params(holder, account_id: int, card: str, amount: int, currency: str,
                        receipt: str) -> dict | None:
    """`posting_confirmed`'s message as the parameters of `outbox.MESSAGE_CTE`, for the fast
    posting path's one write (None: the cardholder has neither email nor phone)."""
    subject, body = confirmation(holder, card, amount, currency, receipt)
    return transactional_params(holder, subject, body, purpose="payment", account_id=account_id)


def confirmation(holder, card: str, amount: int, currency: str, receipt: str
                 ) -> tuple[str, str]:
    """A posted payment's confirmation, subject and body, in the cardholder's language."""
    return _compose(
        holder, amount, currency,
        lambda amount: _("We received your payment of %(amount)s", amount=amount),
        lambda amount: _("Thank you. Your payment of %(amount)s to the card account "
                         "%(card)s has been received and applied. Receipt number: "
                         "%(receipt)s.", amount=amount, card=card, receipt=receipt))


def payment_reversed(payment, reversal) -> None:
    holder = payment.account.cardholder
    with force_locale(holder.locale or "en"):
        amount = format_money(reversal.amount, payment.currency, holder.locale or "en")
    _send(payment,
          lambda _amount: _("A payment of %(amount)s was returned", amount=amount),
          lambda _amount: _("A payment of %(amount)s (receipt %(receipt)s) was returned to your "
                            "card, so it no longer counts towards your account.",
                            amount=amount, receipt=payment.receipt_number or "-"),
          "payment", MessageKind.SERVICE)


def autopay_declined(payment, next_try) -> None:
    """The decline notice carries a one-tap link (portal/links) to pay the instalment now: the
    pay page with the instalment chosen, for what is missed and due."""
    instalment = plan_link.next_instalment(payment.account)
    tap = links.issue(payment.account, PAY_INSTALMENT, amount=payment.amount,
                      due_on=instalment.due_date if instalment is not None else None)
    link = tap.url
    if next_try is not None:
        locale = payment.account.cardholder.locale or "en"
        when = format_date(next_try, "long", locale=locale)
        body = lambda amount: _(  # noqa: E731
            "Your automatic payment of %(amount)s did not go through. We will try again on "
            "%(date)s. You can also pay now: %(link)s", amount=amount, date=when, link=link)
    else:
        body = lambda amount: _(  # noqa: E731
            "Your automatic payment of %(amount)s did not go through and will not be tried "
            "again. Please pay here: %(link)s", amount=amount, link=link)
    message = _send(payment, lambda amount: _("Your automatic payment did not go through"), body,
                    "autopay", MessageKind.COLLECTION)
    links.attach(tap.link, message)  # the payment that follows names this message


def autopay_needs_authentication(payment) -> None:
    link = _link(payment)
    _send(payment, lambda amount: _("Please confirm your automatic payment"),
          lambda amount: _("Your bank asks you to confirm the automatic payment of %(amount)s. "
                           "Please finish it here: %(link)s", amount=amount, link=link),
          "autopay", MessageKind.COLLECTION)
