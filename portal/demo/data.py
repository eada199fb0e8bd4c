"""The demo cast: cardholders in every delinquency bucket and one staff user per role.

Everything is fixed except dates, which are computed from "today" so that each demo account
sits in its intended days-past-due bucket whenever the demo is loaded. Passwords and TOTP
secrets are public on purpose: this data must never reach production.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from portal.staff.models import Role

# Both pass zxcvbn with score 4 (tests check >= 3) and are at least 10 characters.
CARDHOLDER_PASSWORD = "Demo-pass-2026!"
STAFF_PASSWORD = "Staff-demo-2026!"

# (lowest days past due, label) of each bucket the demo covers.
BUCKETS = ((0, "current"), (1, "1-29"), (30, "30-59"), (60, "60-89"), (90, "90-179"),
           (180, "180+"))


def bucket_for(dpd: int) -> str:
    label = BUCKETS[0][1]
    for low, name in BUCKETS:
        if dpd >= low:
            label = name
    return label


@dataclass(frozen=True)
class DemoAccount:
    number: str
    last4: str
    dpd: int  # days past due on the day the demo is loaded; 0 means nothing overdue
    credit_limit: str
    principal: str
    interest: str
    fees: str
    minimum_due: str


@dataclass(frozen=True)
class DemoCardholder:
    customer_id: str
    full_name: str
    date_of_birth: str
    phone: str
    email: str
    locale: str
    profile: str
    accounts: tuple[DemoAccount, ...]

    @property
    def currency(self) -> str:
        return "CNY" if self.profile == "cn" else "USD"

    @property
    def timezone(self) -> str:
        return "Asia/Shanghai" if self.profile == "cn" else "America/New_York"


CARDHOLDERS = (
    DemoCardholder("DEMO-CN-001", "李伟", "1985-03-14", "+8613800138001", "li.wei@example.com",
                   "zh_Hans", "cn", (
                       DemoAccount("6222020000001001", "1001", 0, "50000", "8200.00", "0",
                                   "0", "820.00"),)),
    DemoCardholder("DEMO-CN-002", "王芳", "1990-07-22", "+8613800138002",
                   "wang.fang@example.com", "zh_Hans", "cn", (
                       DemoAccount("6222020000002002", "2002", 45, "30000", "15600.00",
                                   "412.35", "100.00", "3120.00"),)),
    DemoCardholder("DEMO-CN-003", "Zhang Min", "1978-11-05", "+8613800138003",
                   "zhang.min@example.com", "en", "cn", (
                       DemoAccount("6222020000003003", "3003", 120, "40000", "32000.00",
                                   "2150.80", "300.00", "12800.00"),)),
    DemoCardholder("DEMO-US-001", "Emily Carter", "1992-02-29", "+12125550101",
                   "emily.carter@example.com", "en", "us", (
                       DemoAccount("4111110000004004", "4004", 15, "5000", "1840.00", "28.50",
                                   "40.00", "55.00"),)),
    DemoCardholder("DEMO-US-002", "Michael Brown", "1983-09-30", "+12125550102",
                   "michael.brown@example.com", "en", "us", (
                       DemoAccount("4111110000005005", "5005", 75, "8000", "4250.00", "210.44",
                                   "80.00", "640.00"),
                       DemoAccount("4111110000005015", "5015", 0, "2000", "620.00", "0", "0",
                                   "25.00"),)),
    DemoCardholder("DEMO-US-003", "Sarah Johnson", "1975-12-01", "+12125550103",
                   "sarah.johnson@example.com", "en", "us", (
                       DemoAccount("4111110000006006", "6006", 200, "10000", "9800.00",
                                   "1320.15", "160.00", "9800.00"),)),
)


@dataclass(frozen=True)
class DemoStaff:
    role: Role
    email: str
    name: str
    totp_secret: str  # base32, fixed so `flask demo logins` can show the current code


STAFF = (
    DemoStaff(Role.CUSTOMER_SERVICE, "cs@demo.portal", "Chen Jing",
              "244UWUCHCZZZJ7YV73IY32J7KAI4BRJE"),
    DemoStaff(Role.COLLECTOR, "collector@demo.portal", "Daniel Ortiz",
              "ADPRUBIRSC5HPKFSNZAU5T5BDCIIJC3T"),
    DemoStaff(Role.COLLECTIONS_MANAGER, "manager@demo.portal", "Liu Yang",
              "2HLXCIQRNOLEEL26JLPMAQKKOOILZY6U"),
    DemoStaff(Role.RISK, "risk@demo.portal", "Priya Shah",
              "4HIF4TEVV7EGBID35QP4GZJ6XSE32IFH"),
    DemoStaff(Role.LEGAL, "legal@demo.portal", "Zhou Lan",
              "K5IQYTSWBRNNYCKUY3VETFLLD345GEKF"),
    DemoStaff(Role.ADMIN, "admin@demo.portal", "Alex Kim",
              "XZ3VXAOSRXKKJMRCDJQUCIKTB46RUMZA"),
)


def feed_rows(today: date, statement_date: date | None = None) -> list[dict[str, str]]:
    """The demo as account-feed rows (text values, as a feed file would carry them).

    Days past due are counted to `today`; the figures are stated as of `statement_date`
    (default `today`), so the nightly run has the days in between to play out.
    """
    rows = []
    for holder in CARDHOLDERS:
        for account in holder.accounts:
            overdue_since = today - timedelta(days=account.dpd) if account.dpd else None
            rows.append({
                "account_number": account.number, "card_last4": account.last4,
                "cardholder_id": holder.customer_id, "full_name": holder.full_name,
                "date_of_birth": holder.date_of_birth, "phone": holder.phone,
                "email": holder.email, "locale": holder.locale, "timezone": holder.timezone,
                "policy_profile": holder.profile, "currency": holder.currency,
                "credit_limit": account.credit_limit, "principal": account.principal,
                "interest": account.interest, "fees": account.fees,
                "minimum_due": account.minimum_due,
                "oldest_unpaid_due_date": overdue_since.isoformat() if overdue_since else "",
                "as_of": (statement_date or today).isoformat(),
            })
    return rows
