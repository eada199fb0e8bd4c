"""The world the access matrix runs in: cardholder A with one of every object, cardholder B with
an account (and a dispute) of their own, one staff member per role, and helpers to sign a fresh
client in as any of them, fetch a CSRF token and fingerprint the whole database."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.extensions import db as _db
from tests.helpers import csrf_token

STAFF_ROLES = ("customer_service", "collector", "collections_manager", "risk", "legal", "admin")
# A customer-service agent who is not in the queue of A's dispute: per-queue isolation.
OUTSIDER = "customer_service_outside_queue"
STAFF_PRINCIPALS = STAFF_ROLES + (OUTSIDER,)
# A collections manager whose staff account was switched off while signed in: a stale session
# must not keep any access, so this principal is expected to get what "anonymous" gets.
DEACTIVATED = "collections_manager_deactivated"
PRINCIPALS = ("anonymous", "owner", "other") + STAFF_PRINCIPALS + (DEACTIVATED,)
ROLE_OF = {name: name for name in STAFF_ROLES} | {OUTSIDER: "customer_service"}

# Every prefix a form in the app uses for its CSRF field: one token is valid for all of them.
CSRF_FIELDS = ("csrf_token", "wd-csrf_token", "msg-csrf_token", "doc-csrf_token",
               "ack-csrf_token", "re-csrf_token", "esc-csrf_token", "res-csrf_token",
               "ap-csrf_token", "rf-csrf_token")


@dataclass
class Scenario:
    """Ids of A's objects (and a few of B's) that the matrix puts into URLs."""

    owner: object
    other: object
    staff: dict
    ids: dict = field(default_factory=dict)
    secrets: tuple = ()  # strings of A's that must never reach B


def build_scenario(app, make_cardholder, make_account, make_staff, login_as) -> Scenario:
    """A (enrolled, one account) with an agreed plan, a posted payment with a receipt, a dispute
    with an attachment, a formal notice and a hardship statement with proof; B with an account
    and a dispute; staff per role, the customer-service agent in the queue of A's dispute."""
    from portal.balances.services import today_for
    from portal.disputes.uploads import store
    from portal.plans.models import HardshipStatement, ProofDocument
    from tests.dispute_helpers import PDF, join, raise_dispute
    from tests.integration.account_pages_helpers import make_notice
    from tests.integration.payment_helpers import only_payment, pay_with_card, start_payment
    from tests.integration.plan_helpers import agree, spec

    owner = make_cardholder(password="Correct-Horse-42", full_name="Alicia Quennell-Ardmore")
    other = make_cardholder(password="Correct-Horse-42", full_name="Bertram Oyelaran-Vance")
    account = make_account(owner, account_number="6299887766554433", card_last4="9137",
                           principal=400_000, interest=20_000, fees=10_000, minimum_due=50_000)
    account_b = make_account(other, account_number="6211002200330044", card_last4="7781")
    staff = {name: make_staff(ROLE_OF[name]) for name in STAFF_PRINCIPALS}
    staff[DEACTIVATED] = make_staff("collections_manager")
    staff[DEACTIVATED].active = False
    _db.session.commit()
    join("billing", staff["customer_service"], "en")

    with app.test_request_context():
        first = today_for(account) + timedelta(days=7)
        plan = agree(account, spec(first_date=first), today=today_for(account))
        statement = HardshipStatement(account_id=account.id, currency="CNY", income=1)
        _db.session.add(statement)
        _db.session.flush()
        proof = ProofDocument(statement_id=statement.id, original_name="payslip.pdf",
                              stored_name=store(PDF), content_type="application/pdf",
                              size_bytes=len(PDF), sha256=hashlib.sha256(PDF).hexdigest())
        _db.session.add(proof)
        _db.session.commit()
    dispute = raise_dispute(account, files=[FileStorage(io.BytesIO(PDF), "receipt.pdf")])
    dispute_b = raise_dispute(account_b, files=[FileStorage(io.BytesIO(PDF), "mine.pdf")])
    notice = make_notice(account)

    client = login_as(app.test_client(), owner)
    start_payment(client, account, "other", "100.00")
    payment = only_payment(account.id)
    pay_with_card(client, payment.id)
    payment = only_payment(account.id)
    assert payment.receipt_number, "the scenario needs a posted payment with a receipt"

    from portal.disputes.models import DisputeRoutingRule

    from portal.contact.footer import opt_out_token

    rule_id = _db.session.scalar(select(DisputeRoutingRule.id).order_by(DisputeRoutingRule.id))
    experiment = _experiment(staff["risk"])
    ids = dict(account=account.id, plan=plan.id, payment=payment.id, dispute=dispute.id,
               attachment=dispute.attachments[0].id, notice=notice.id, proof=proof.id,
               rule=rule_id, profile="cn", policy_version=1, first_date=first.isoformat(),
               statement=statement.id, opt_out=opt_out_token(owner.id, "email"),
               account_b=account_b.id, dispute_b=dispute_b.id,
               attachment_b=dispute_b.attachments[0].id, staff_member=staff["risk"].id,
               experiment=experiment.id)
    return Scenario(owner=owner, other=other, staff=staff, ids=ids,
                    secrets=(account.account_number, owner.full_name, owner.email, owner.phone,
                             "Card ending in 9137"))


def _experiment(risk):
    """An offers experiment on cn (A's account is in one of its arms)."""
    from portal.experiments.rules import Definition
    from portal.experiments.services import create
    from tests.clock import TODAY

    experiment = create(Definition(
        name="Shorter plans first", kind="offers", profile="cn", starts_on=TODAY,
        ends_on=TODAY + timedelta(days=60), challenger_percent=50,
        arm_names={"a": "Champion", "b": "Four payments"},
        settings={"a": {"counts": [3, 6, 12], "first_due_days": 7},
                  "b": {"counts": [4], "first_due_days": 14}}), risk, TODAY)
    _db.session.commit()
    return experiment


def client_for(app, login_as, scenario: Scenario, principal: str):
    """A fresh client signed in as `principal` (anonymous: signed in as nobody)."""
    client = app.test_client()
    if principal == "owner":
        login_as(client, scenario.owner)
    elif principal == "other":
        login_as(client, scenario.other)
    elif principal != "anonymous":
        login_as(client, scenario.staff[principal])
    return client


def csrf_fields(client) -> dict:
    """A valid CSRF token for this client's session, under every field name forms use."""
    token = csrf_token(client, "/", follow_redirects=True)
    return {name: token for name in CSRF_FIELDS}


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table: equal before and after means nothing changed."""
    _db.session.expire_all()
    digests = {}
    with _db.engine.connect() as conn:
        for table in _db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(table.select().order_by(*order)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])
