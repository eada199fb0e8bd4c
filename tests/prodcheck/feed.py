"""Accounts in the issuer's feed format, for `flask accounts import` (the production check and
bench/audit.py load their accounts through the operators' own import)."""
from __future__ import annotations

import csv
from datetime import date, timedelta

ZONES = (("cn", "CNY", "Asia/Shanghai"), ("us", "USD", "America/New_York"))


def feed_file(path: str, count: int, as_of: date) -> None:
    """`count` accounts in the issuer's feed format, half in Shanghai, half in New York."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = None
        for n in range(count):
            profile, currency, zone = ZONES[n % 2]
            row = {"account_number": f"9{n:015d}", "card_last4": f"{n % 10000:04d}",
                   "cardholder_id": f"PRODCHECK-{n}", "full_name": f"Holder {n}",
                   "date_of_birth": "1980-01-01", "phone": "", "email": f"holder{n}@example.com",
                   "locale": "en", "timezone": zone, "policy_profile": profile,
                   "currency": currency, "credit_limit": "10000", "principal": "5000.00",
                   "interest": "100.00", "fees": "0", "minimum_due": "500.00",
                   "oldest_unpaid_due_date": (as_of - timedelta(days=30)).isoformat(),
                   "as_of": as_of.isoformat()}
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
