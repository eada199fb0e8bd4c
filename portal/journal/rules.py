"""Pure rules of the journal with the issuer: movement ids and the rule for old feeds.

A *portal movement* is a ledger entry the portal originated (a payment, a reversal, a refund,
a chargeback, a dispute credit, a waiver, a plan's interest). Its stable id in exports and
feeds is ``PM`` followed by the ledger entry's id (``PM1234``).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

PREFIX = "PM"
_ID_RE = re.compile(r"PM([1-9][0-9]{0,17})", re.ASCII)
# Separators allowed between ids in one CSV cell.
_SPLIT_RE = re.compile(r"[\s,;]+")


class MovementIdError(ValueError):
    """A text that should name portal movements does not."""


def movement_id(entry_id: int) -> str:
    return f"{PREFIX}{entry_id}"


def parse_movement_ids(value) -> tuple[int, ...]:
    """Ledger entry ids from a feed's `applied_portal_ids`: a text of ids separated by spaces,
    commas or semicolons (CSV), or a list of such texts (JSON Lines). Empty means none.
    Raises MovementIdError naming the first token that is not a movement id."""
    if isinstance(value, list):
        tokens = []
        for item in value:
            if not isinstance(item, str):
                raise MovementIdError(f"'{item}' is not a movement id (PM followed by digits)")
            tokens.extend(_SPLIT_RE.split(item.strip()))
    elif isinstance(value, str):
        tokens = _SPLIT_RE.split(value.strip())
    else:
        raise MovementIdError(f"must be text or a list of texts, not {type(value).__name__}")
    ids = []
    for token in tokens:
        if not token:
            continue
        match = _ID_RE.fullmatch(token.upper())
        if match is None:
            raise MovementIdError(f"'{token}' is not a movement id (PM followed by digits)")
        ids.append(int(match.group(1)))
    return tuple(sorted(set(ids)))


def applied_by_old_feed(posted_day: date, feed_as_of: date, lag_days: int) -> bool:
    """The rule for feeds without `applied_portal_ids`: a movement counts as applied by the
    issuer once a feed is dated `lag_days` or more after the (UTC) day it was posted, which
    leaves the issuer that many days to receive the journal export and apply it."""
    return feed_as_of >= posted_day + timedelta(days=lag_days)
