"""Dispute policy as data: business calendars, SLAs, default queues and rules, reply templates.

Plain Python, no framework: `rules.py` computes with it and `services.py` seeds the database
from it. Holiday lists are demonstration data for 2026 and 2027; an operator replaces them.
"""
from __future__ import annotations

from datetime import date, time

# Categories: the first four contest the debt and so put the contested amount on hold.
CATEGORIES = ("wrong_amount", "not_my_debt", "already_paid", "unauthorised_transaction",
              "conduct_complaint", "hardship_other")
CONTESTING = frozenset(CATEGORIES[:4])
# Categories where the cardholder may point at ledger entries instead of typing an amount.
ENTRY_CATEGORIES = frozenset({"wrong_amount", "already_paid", "unauthorised_transaction"})


def _days(year: int, month: int, *days: int) -> list[date]:
    return [date(year, month, d) for d in days]


CN_HOLIDAYS = frozenset(
    _days(2026, 1, 1, 2) + _days(2026, 2, 16, 17, 18, 19, 20) + _days(2026, 4, 6)
    + _days(2026, 5, 1, 4, 5) + _days(2026, 6, 19) + _days(2026, 9, 25)
    + _days(2026, 10, 1, 2, 5, 6, 7)
    + _days(2027, 1, 1) + _days(2027, 2, 8, 9, 10, 11, 12) + _days(2027, 4, 5)
    + _days(2027, 5, 3, 4, 5) + _days(2027, 6, 9) + _days(2027, 9, 15)
    + _days(2027, 10, 1, 4, 5, 6, 7)
)
# China moves working days onto weekends around long holidays ("调休").
CN_EXTRA_WORKDAYS = frozenset(_days(2026, 2, 14, 28) + _days(2026, 10, 10) + _days(2027, 2, 20))

US_HOLIDAYS = frozenset(
    _days(2026, 1, 1, 19) + _days(2026, 2, 16) + _days(2026, 5, 25) + _days(2026, 6, 19)
    + _days(2026, 7, 3) + _days(2026, 9, 7) + _days(2026, 10, 12) + _days(2026, 11, 11, 26)
    + _days(2026, 12, 25)
    + _days(2027, 1, 1, 18) + _days(2027, 2, 15) + _days(2027, 5, 31) + _days(2027, 6, 18)
    + _days(2027, 7, 5) + _days(2027, 9, 6) + _days(2027, 10, 11) + _days(2027, 11, 11, 25)
    + _days(2027, 12, 24)
)

# profile -> (time zone, opening, closing, holidays, extra working days); Mon-Fri otherwise.
CALENDARS = {
    "cn": ("Asia/Shanghai", time(9, 0), time(18, 0), CN_HOLIDAYS, CN_EXTRA_WORKDAYS),
    "us": ("America/New_York", time(9, 0), time(17, 0), US_HOLIDAYS, frozenset()),
}
DEFAULT_PROFILE = "cn"

# profile -> category -> (acknowledge within N business hours, resolve within N business days)
SLAS = {
    "cn": {
        "wrong_amount": (8, 10), "not_my_debt": (4, 15), "already_paid": (8, 5),
        "unauthorised_transaction": (4, 15), "conduct_complaint": (4, 5),
        "hardship_other": (16, 10),
    },
    "us": {
        "wrong_amount": (8, 10), "not_my_debt": (8, 30), "already_paid": (8, 10),
        "unauthorised_transaction": (8, 30), "conduct_complaint": (4, 10),
        "hardship_other": (16, 10),
    },
}

# Default queues (code, managers_only) and routing rules seeded into an empty database.
QUEUES = (("billing", False), ("fraud", False), ("conduct", True), ("hardship", False))
# (priority, category, language, min_amount, max_amount, queue code)
DEFAULT_RULES = (
    (10, "not_my_debt", None, None, None, "fraud"),
    (10, "unauthorised_transaction", None, None, None, "fraud"),
    (10, "conduct_complaint", None, None, None, "conduct"),
    (10, "hardship_other", None, None, None, "hardship"),
    (20, "wrong_amount", None, None, None, "billing"),
    (20, "already_paid", None, None, None, "billing"),
)
FALLBACK_QUEUE = {"wrong_amount": "billing", "already_paid": "billing", "not_my_debt": "fraud",
                  "unauthorised_transaction": "fraud", "conduct_complaint": "conduct",
                  "hardship_other": "hardship"}

# Reply templates the agent can send; the text goes out in the cardholder's language.
REPLY_TEMPLATES = {
    "received": {
        "en": "Thank you for telling us. We are looking into this and will reply by the date "
              "shown on your dispute.",
        "zh_Hans": "感谢您告诉我们。我们正在核查，会在争议页面显示的日期前回复您。",
    },
    "need_statement": {
        "en": "To check this we need a copy of the statement or receipt that shows the payment "
              "or the amount. Please add it to this dispute.",
        "zh_Hans": "为了核查，我们需要能显示这笔付款或金额的账单或收据。请把它添加到这个争议中。",
    },
    "need_identity": {
        "en": "To look into a debt you do not recognise we need a police report or a signed "
              "statement. Please add it to this dispute.",
        "zh_Hans": "为了核查您不认识的欠款，我们需要报警回执或您签名的声明。请把它添加到这个争议中。",
    },
    "corrected": {
        "en": "We have checked the account and corrected the balance. The change shows on your "
              "account now.",
        "zh_Hans": "我们已核查账户并更正了余额。您现在可以在账户中看到这项更改。",
    },
}

# Steps legal records on a dispute escalated to them; internal, shown in the staff thread only.
LEGAL_STEPS = ("formal_objection", "referred_to_counsel", "counsel_advice",
               "regulator_complaint", "court_papers")
