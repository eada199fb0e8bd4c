"""How the cardholder reads each kind of ledger entry, wherever an entry is shown."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, ngettext

from portal.accounts.models import EntryKind

# Plain-language description of each kind of ledger entry, as the cardholder reads it.
ENTRY_KIND_LABELS = {
    EntryKind.STATEMENT_BALANCE: _l("Balance from your statement"),
    EntryKind.INTEREST: _l("Interest charged"),
    EntryKind.FEE: _l("Late fee"),
    EntryKind.PAYMENT: _l("Payment received"),
    EntryKind.REVERSAL: _l("Correction of an earlier entry"),
    EntryKind.ADJUSTMENT: _l("Balance adjustment"),
    EntryKind.WAIVER: _l("Amount waived"),
}


# A charge taken back because a payment dated on or before its day arrived later
# (portal.jobs.corrections writes them with source_ref "correction:...").
CORRECTION_LABELS = {
    EntryKind.INTEREST: _l("Interest taken back: your payment had arrived"),
    EntryKind.FEE: _l("Late fee taken back: your payment had arrived"),
}


# The same, because a credit (an upheld dispute, a plan's waiver) applied on or before its day
# ("correction:<entry id>:credit-<id>").
CREDIT_CORRECTION_LABELS = {
    EntryKind.INTEREST: _l("Interest taken back: a credit to your account had been applied"),
    EntryKind.FEE: _l("Late fee taken back: a credit to your account had been applied"),
}


# The same, because the card issuer's figures, received later, showed less owed from a day
# already charged: a payment at the bank, the issuer's own credit
# ("correction:<entry id>:feed-<id>").
FEED_CORRECTION_LABELS = {
    EntryKind.INTEREST: _l("Interest taken back: your card issuer's figures showed less owed"),
    EntryKind.FEE: _l("Late fee taken back: your card issuer's figures showed less owed"),
}


def line_label(line) -> str:
    """What a ledger line (`portal.accounts.ledger_lines`) is: a run of daily interest says
    how many days it sums."""
    if getattr(line, "is_daily_run", False):
        return ngettext("Interest charged daily, %(num)d day", "Interest charged daily, %(num)d days",
                        line.days)
    return entry_label(line.kind, line.source_ref)


def entry_label(kind: EntryKind | str, source_ref: str | None = None) -> str:
    kind = EntryKind(kind)
    if source_ref and source_ref.startswith("correction:") and kind in CORRECTION_LABELS:
        cause = source_ref.rsplit(":", 1)[-1]
        if cause.startswith("credit-"):
            return str(CREDIT_CORRECTION_LABELS[kind])
        if cause.startswith("feed-"):
            return str(FEED_CORRECTION_LABELS[kind])
        return str(CORRECTION_LABELS[kind])
    return str(ENTRY_KIND_LABELS[kind])
