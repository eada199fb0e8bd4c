"""What is overdue, from the figures the ledger gives: one definition for pages and jobs."""


def overdue_amount(total: int, minimum_due: int, fees_after_feed: int,
                   payments_after_feed: int) -> int:
    """The statement's minimum due plus fees posted since, less payments since (negative
    amounts, net of reversals), never below zero nor above the total owed."""
    return max(0, min(total, minimum_due + fees_after_feed + payments_after_feed))
