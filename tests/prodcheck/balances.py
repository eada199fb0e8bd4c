"""`python -m tests.prodcheck.balances AS_OF`: every account's balance as the portal computes
it, as JSON, for the database in DATABASE_URL (the restore check compares two databases)."""
from __future__ import annotations

import json
import sys
from datetime import date

from sqlalchemy import select

from portal import create_app
from portal.accounts.models import Account
from portal.balances.services import balances_for
from portal.extensions import db


def main(as_of: str) -> None:
    with create_app().app_context():
        accounts = list(db.session.scalars(select(Account).order_by(Account.id)))
        found = balances_for(accounts, date.fromisoformat(as_of))
        print(json.dumps({str(k): [b.principal, b.interest, b.fees, b.overdue, b.days_past_due]
                          for k, b in found.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
