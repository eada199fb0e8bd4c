"""The version token of each account's figures (issue 15: what pages keep per process).

One row per account (and row 0 for the policies, which every account reads). Database
triggers (migration 0030_page_version) write a fresh token into the row in the same
transaction as any change to what the dashboard's and the timeline's figures are derived
from: the account row, its ledger entries, snapshots and acknowledgements, consequences,
notices, stage moves, disputes, plans with their instalments and revisions, promises to pay,
legal steps, the cardholder's care records, and any policy version; a new account's row is
written by the first of those (not by the account's own insert, migration 0035): until then
its figures are built, never kept. Nothing in Python writes here. A token is never reused
(a PostgreSQL sequence; a random 64-bit number on SQLite), so a rolled-back change cannot
make an old token current again.

Readers: the account pages' figures (`portal.account_pages.figures`) and the collections
worklist's row facts (`portal.collections.worklists`). It lives with the accounts, below
both, because it versions the account and what hangs on it.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

POLICIES = 0  # the row whose token changes with any policy version


class PageVersion(db.Model):
    __tablename__ = "page_version"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[int] = mapped_column(BigInteger)
