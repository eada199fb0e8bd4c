"""What a feed import reports, and the names both import paths share."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from portal.journal.feed_io import RawRow

ACTOR = ("system", "import")
HOLDER_FIELDS = ("full_name", "date_of_birth", "phone", "email", "locale", "timezone")
ACCOUNT_FIELDS = ("card_last4", "currency", "credit_limit", "policy_profile", "minimum_due",
                  "oldest_unpaid_due_date")

RejectFn = Callable[[RawRow, str], None]


class ImportConflict(Exception):
    """A batch clashed with a concurrent change; it was rolled back and can simply be re-run."""


@dataclass
class ImportResult:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    entries_posted: int = 0
    rejects_path: str | None = None
    # (line, reason) of the first rejects, for messages and tests; the file has them all.
    rejects: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"rows read {self.read}, created {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {self.rejected}, "
                f"ledger entries posted {self.entries_posted}")
