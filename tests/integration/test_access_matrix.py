"""One access decision for every route, checked for every kind of visitor.

MATRIX maps each endpoint in app.url_map to how its URL is built from the scenario (objects that
belong to cardholder A, see tests/access_fixtures.py) and what each principal gets: anonymous,
A (the owner), B (another cardholder), and each staff role. A route missing from the matrix fails
the suite, so every new route needs an access decision here.

For POST, a denied principal (sign-in redirect, 403, 404, 400) must leave every table unchanged;
an allowed principal is only checked not to be refused (feature tests prove what the POST does).
Every response B gets must not carry A's account number or name.

Role decisions (DESIGN.md section 1 and the issues; least privilege where the table is silent):
- Cardholder pages are for cardholders only: staff get 403 there and read accounts through their
  own workspaces (dispute account context, plan review, staff payment view).
- customer_service works disputes only in the queues it belongs to (an agent outside the queue
  gets 404, so ids reveal nothing); it may read a payment (disputes such as "already paid" need
  it) but never refund; it does not see hardship proof (issue 4: collectors and managers review
  proposals; a hardship dispute gets documents through the dispute itself).
- collector reviews plans and reads payments; no disputes (conduct complaints may be about them).
- collections_manager: everything a collector sees, all dispute queues, approvals, refunds,
  routing rules.
- risk edits policies and plan limits only; no cardholder money flows.
- legal sees disputes escalated to legal (A's dispute is not: 404) and the dispute list; it has
  no payment, plan or proof pages yet (DESIGN: "see accounts referred to legal", not payments).
- admin manages staff and (issue 6) dispute routing rules and queues. DESIGN allows admin
  "no access to cardholder money flows beyond reading"; that is a ceiling, not a grant, and
  admin's task needs no payment, plan or proof page, so admin gets 403 on all of them and can
  never change a money flow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from flask import url_for

from portal.accounts.models import Account
from portal.extensions import db as _db
from portal.links import services as links

from tests.access_fixtures import (DEACTIVATED, OUTSIDER, PRINCIPALS, ROLE_OF, STAFF_PRINCIPALS,
                                   build_scenario, changed_tables, client_for, csrf_fields,
                                   fingerprint)

# ---- outcomes --------------------------------------------------------------------------------
OK = "200"                 # the page (GET); for POST: allowed, i.e. not refused
REDIRECT = "302"           # a redirect that is not a sign-in page (GET); POST: allowed
OK_OR_REDIRECT = "2xx/302"
LOGIN = "cardholder sign-in"  # 302 to /login
STAFF_LOGIN = "staff sign-in"  # 302 to /staff/login
PUBLIC = "public"          # no account data behind it: anything but a server error
MONITOR = "monitor"        # a health check for monitoring: 200 or 503, with a JSON body
ALLOWED = {OK, REDIRECT, OK_OR_REDIRECT}
DENIED = {LOGIN, STAFF_LOGIN, 400, 403, 404}


@dataclass
class Route:
    args: dict = field(default_factory=dict)   # url argument -> scenario id key ("=x": literal)
    who: dict = field(default_factory=dict)    # principal -> outcome
    query: dict = field(default_factory=dict)  # GET query string (same "=x" convention)
    data: dict = field(default_factory=dict)   # POST form fields besides the CSRF tokens


def cardholder_object(args, owner=OK, query=None, data=None) -> Route:
    """A page about A's object: A gets it, B a 404, staff a 403, nobody signed in a sign-in."""
    who = {"anonymous": LOGIN, "owner": owner, "other": 404}
    who.update({name: 403 for name in STAFF_PRINCIPALS})
    return Route(args, who, query or {}, data or {})


def cardholder_own(owner=OK, other=OK) -> Route:
    """A page about the signed-in cardholder's own things (no id in the URL)."""
    who = {"anonymous": LOGIN, "owner": owner, "other": other}
    who.update({name: 403 for name in STAFF_PRINCIPALS})
    return Route({}, who)


def staff_only(*roles, args=None, ok=OK, data=None, **overrides) -> Route:
    """Staff with one of `roles` get `ok`; other staff and cardholders 403; anonymous sign-in."""
    who = {"anonymous": STAFF_LOGIN, "owner": 403, "other": 403}
    who.update({name: ok if ROLE_OF[name] in roles else 403 for name in STAFF_PRINCIPALS})
    who.update(overrides)
    return Route(args or {}, who, {}, data or {})


def public(args=None, data=None) -> Route:
    return Route(args or {}, {name: PUBLIC for name in PRINCIPALS if name != DEACTIVATED}, {},
                 data or {})


def expected_for(route: Route, principal: str):
    """A switched-off staff account is treated exactly like nobody signed in."""
    return route.who["anonymous" if principal == DEACTIVATED else principal]


ACCOUNT = {"account_id": "account"}
PLAN = {"account_id": "account", "plan_id": "plan"}
PAYMENT = {"payment_id": "payment"}
DISPUTE = {"dispute_id": "dispute"}
STAFF_MEMBER = {"staff_id": "staff_member"}
WORKERS = ("customer_service", "collections_manager")
DISPUTE_STAFF = ("customer_service", "collections_manager", "legal")
PLAN_STAFF = ("collector", "collections_manager")
PAYMENT_READERS = ("customer_service", "collector", "collections_manager")
RULE_EDITORS = ("collections_manager", "admin")
# legal is in the workspace but A's dispute is not escalated to legal; the agent outside the
# queue may not see it: both 404 on the dispute itself.
NOT_THEIRS = {"legal": 404, OUTSIDER: 404}


def dispute_action(data=None, roles=WORKERS) -> Route:
    return staff_only(*DISPUTE_STAFF, args=DISPUTE, data=data, **{
        name: 404 if name in NOT_THEIRS else (OK if ROLE_OF[name] in roles else 403)
        for name in STAFF_PRINCIPALS})


def manager_dispute_action(data=None) -> Route:
    # staff_required(collections_manager) comes before the dispute lookup: 403 for all others
    return staff_only("collections_manager", args=DISPUTE, data=data)


MATRIX: dict[str, Route] = {
    # -- public: sign-in, enrolment, password reset, language, health ---------------------------
    "core.index": public(),
    "core.healthz": public(),
    # what the nightly run did (no account data); 503 is its answer for a nightly run not ok
    "jobs.health": Route({}, {name: MONITOR for name in PRINCIPALS if name != DEACTIVATED}),
    "core.set_locale": public(data={"locale": "zh_Hans", "next": "/"}),
    "auth.login": public(),
    # One-tap links (portal/links): public by design, like the opt-out link; the token is the
    # authority, and nothing about the account shows before the light check (see
    # test_a_one_tap_link_shows_no_account_data_before_the_check below).
    "links.open": public(args={"token": "=no-such-link"}, data={"card_last4": "9137"}),
    "links.landing": public(),
    "auth.logout": public(),
    "auth.enrol": public(),
    "auth.enrol_code": public(),
    "auth.enrol_password": public(),
    "auth.enrol_resend": public(),
    "auth.forgot": public(),
    "auth.forgot_code": public(),
    "auth.forgot_password": public(),
    "auth.forgot_resend": public(),
    "staff.login": public(),
    "staff.login_code": public(),
    "staff.logout": public(),
    # The opt-out link from A's emails is a capability: whoever holds it may stop A's emails,
    # without signing in (one-click unsubscribe). It shows no personal data; a bad token is 404.
    "contact.opt_out": Route({"token": "opt_out"}, {name: OK for name in PRINCIPALS
                                                    if name != DEACTIVATED}),
    # the webhook trusts a signature, never a session: unsigned is 400 for everybody
    "payments.webhook": Route({}, {name: 400 for name in PRINCIPALS if name != DEACTIVATED}),

    # -- the cardholder's own lists (B sees B's things, never A's) ------------------------------
    "accounts.dashboard": cardholder_own(),
    "disputes.index": cardholder_own(),
    "plans.index": cardholder_own(),
    "payments.pay_start": cardholder_own(owner=REDIRECT, other=REDIRECT),  # one account each
    "contact.preferences": cardholder_own(),

    # -- A's account pages ----------------------------------------------------------------------
    "accounts.overview": cardholder_object(ACCOUNT),
    "accounts.history": cardholder_object(ACCOUNT),
    "accounts.timeline": cardholder_object(ACCOUNT),
    "accounts.notices": cardholder_object(ACCOUNT),
    "accounts.notice": cardholder_object({**ACCOUNT, "notice_id": "notice"}),
    "accounts.notice_pdf": cardholder_object({**ACCOUNT, "notice_id": "notice"}),

    # -- A's disputes -----------------------------------------------------------------------------
    "disputes.new": cardholder_object(ACCOUNT, data={
        "category": "wrong_amount", "amount": "10.00",
        "description": "The late fee was charged twice this month."}),
    "disputes.show": cardholder_object(DISPUTE),
    "disputes.reply": cardholder_object(DISPUTE, data={"body": "Please look at this again."}),
    "disputes.withdraw": cardholder_object(DISPUTE),
    "disputes.attachment": cardholder_object({**DISPUTE, "attachment_id": "attachment"}),

    # -- A's payments -----------------------------------------------------------------------------
    "payments.pay": cardholder_object(ACCOUNT, data={"choice": "other", "other_amount": "50.00",
                                                     "currency": "CNY"}),
    "payments.checkout": cardholder_object(PAYMENT, owner=REDIRECT),  # posted: to its status
    "payments.status": cardholder_object(PAYMENT),
    "payments.cancel": cardholder_object(PAYMENT, owner=REDIRECT),  # to its status
    "payments.recheck": cardholder_object(PAYMENT),  # posted: JSON naming its status page
    "payments.receipt": cardholder_object(PAYMENT),
    "payments.receipt_pdf": cardholder_object(PAYMENT),
    "payments.sandbox_card": cardholder_object(PAYMENT, data={
        "card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"}),
    "payments.sandbox_authenticate": cardholder_object(PAYMENT, data={"approve": "1"}),
    "payments.autopay_page": cardholder_object(ACCOUNT, data={
        "card_number": "4242424242424242", "expiry": "12/30", "cvc": "123", "consent": "y"}),
    "payments.autopay_return": cardholder_object(ACCOUNT, owner=REDIRECT,
                                                 query={"setup_intent": "=seti_x"}),
    "payments.autopay_toggle": cardholder_object({**ACCOUNT, "state": "=off"}),

    # -- A's plans ----------------------------------------------------------------------------------
    "plans.account_plans": cardholder_object(ACCOUNT),
    "plans.offers": cardholder_object(ACCOUNT, owner=REDIRECT),  # active plan: shown instead
    "plans.propose": cardholder_object(ACCOUNT, data={"mode": "count", "count": "6",
                                                      "frequency": "monthly"}),
    "plans.confirm": cardholder_object(ACCOUNT, query={
        "kind": "=instalment", "count": "=6", "frequency": "=monthly",
        "first_date": "first_date", "down_payment": "=0", "source": "=offer"}),
    "plans.hardship": cardholder_object(ACCOUNT, data={"income": "1000.00"}),

    # -- A's promises to pay (A has a plan running: the page says why none can be made) ---------
    "promises.page": cardholder_object(ACCOUNT),
    "promises.make": cardholder_object(ACCOUNT, data={"amount": "500.00",
                                                      "promised_on": "2026-12-01"}),
    "plans.show": cardholder_object(PLAN),
    "plans.cancel": cardholder_object(PLAN),
    "plans.agreement_pdf": cardholder_object(PLAN),
    "plans.accept_counter": cardholder_object(PLAN, data={"agree": "y"}),
    "plans.decline_counter": cardholder_object(PLAN),
    # Changing A's active plan (issue 16 servicing): the review shows a skip; the POST without
    # the consent box ticked changes nothing (422), and is no refusal of access.
    "plans.change": cardholder_object(PLAN),
    "plans.change_review": cardholder_object(PLAN, query={"kind": "=skip", "seq": "=2"},
                                             data={"kind": "skip", "seq": "2"}),
    "plans.agreement_version": cardholder_object({**PLAN, "number": "=1"}),
    # Proof is a file, not a page: 404 (not a sign-in redirect) for anonymous, so a link to it
    # reveals nothing. Staff who review proposals may read it (each read is audited).
    "plans.proof": Route({"document_id": "proof"}, {
        "anonymous": 404, "owner": OK, "other": 404, "customer_service": 403, OUTSIDER: 403,
        "collector": OK, "collections_manager": OK, "risk": 403, "legal": 403, "admin": 403}),

    # -- staff homes ------------------------------------------------------------------------------
    "staff.home": staff_only(*ROLE_OF.values(), ok=REDIRECT),  # one role: straight to its home
    "staff.service_home": staff_only("customer_service"),
    "staff.collections_home": staff_only("collector"),
    "staff.manager_home": staff_only("collections_manager"),
    "staff.risk_home": staff_only("risk"),
    "staff.legal_home": staff_only("legal"),
    "staff.admin_home": staff_only("admin"),
    "jobs.runs": staff_only("admin"),  # runs and failures of the job engine (issue 14)
    # admin manages staff (issue 13, item 15); the target is the risk officer of the scenario
    "staff_admin.create": staff_only("admin", data={
        "name": "Nadia Newcomer", "email": "nadia@issuer.example", "locale": "en",
        "roles": "collector"}),
    "staff_admin.member": staff_only("admin", args=STAFF_MEMBER),
    "staff_admin.roles": staff_only("admin", args=STAFF_MEMBER, data={"roles": "legal"}),
    "staff_admin.disable": staff_only("admin", args=STAFF_MEMBER),
    "staff_admin.enable": staff_only("admin", args=STAFF_MEMBER),
    "staff_admin.reset_authenticator": staff_only("admin", args=STAFF_MEMBER),
    # the set-up link is a capability held by the new member, who is not signed in yet: a
    # token that is not a live link is 404 for everybody, and shows nothing
    "staff_admin.setup": public(args={"token": "=not-a-live-link"}),

    # -- dispute workspace (issue 6) --------------------------------------------------------------
    "dispute_work.index": staff_only(*DISPUTE_STAFF),
    "dispute_work.show": dispute_action(roles=DISPUTE_STAFF),
    "dispute_work.attachment": staff_only(*DISPUTE_STAFF, args={
        **DISPUTE, "attachment_id": "attachment"}, **NOT_THEIRS),
    "dispute_work.acknowledge": dispute_action(),
    "dispute_work.message": dispute_action({"msg-kind": "reply", "msg-body": "We are on it."}),
    "dispute_work.documents": dispute_action({"doc-body": "Please send your statement."}),
    "dispute_work.reassign": dispute_action({"re-assignee": "none"}),
    "dispute_work.escalate": dispute_action({"esc-to": "legal", "esc-note": "Threatens court."}),
    "dispute_work.resolve": dispute_action({"res-outcome": "rejected",
                                            "res-reason": "The fee is correct."}),
    # legal's notes and legal steps: legal only, and only on a dispute escalated to legal
    "dispute_work.legal": staff_only("legal", args=DISPUTE, legal=404,
                                     data={"lg-note": "Counsel consulted."}),
    "dispute_work.approve": manager_dispute_action(),
    "dispute_work.refuse": manager_dispute_action({"rf-note": "Not above the threshold."}),
    "dispute_admin.rules": staff_only(*RULE_EDITORS, data={"priority": "1", "queue": "1"}),
    "dispute_admin.edit_rule": staff_only(*RULE_EDITORS, args={"rule_id": "rule"},
                                          data={"priority": "1", "queue": "1"}),
    "dispute_admin.delete_rule": staff_only(*RULE_EDITORS, args={"rule_id": "rule"}),
    "dispute_admin.queues": staff_only(*RULE_EDITORS, data={"email": "x@issuer.example",
                                                            "action": "add", "queue": "1"}),

    # -- payments for staff (issue 5): read by those who work accounts, refund by managers --------
    "payments.staff_payments": staff_only(*PLAN_STAFF),  # the list: collectors and managers
    "payments.staff_payment": staff_only(*PAYMENT_READERS, args=PAYMENT),
    "payments.staff_refund": staff_only("collections_manager", args=PAYMENT, data={
        "amount": "1.00", "reason": "Goodwill.", "request_key": "access-matrix"}),

    # -- plan review (issue 4) and the risk team's editors (issues 3 and 4) ----------------------
    "plan_review.queue": staff_only(*PLAN_STAFF),
    "plan_review.agreed": staff_only(*PLAN_STAFF),
    "plan_review.detail": staff_only(*PLAN_STAFF, args={"plan_id": "plan"}),
    "plan_review.approve": staff_only(*PLAN_STAFF, args={"plan_id": "plan"}),
    "plan_review.counter": staff_only(*PLAN_STAFF, args={"plan_id": "plan"}),
    "plan_review.reject": staff_only(*PLAN_STAFF, args={"plan_id": "plan"},
                                     data={"reason": "Not affordable."}),
    "plan_review.plan_limits": staff_only("risk"),
    "policy.index": staff_only("risk"),
    "policy.version": staff_only("risk", args={"profile": "profile",
                                               "version": "policy_version"}),
    "policy.edit": staff_only("risk", args={"profile": "profile"}),

    # -- legal workspace: legal records steps, collections managers read; an account not
    # referred to legal (A's is not) is 404 even to them, so ids reveal nothing --------------
    "legal.index": staff_only("legal", "collections_manager"),
    "legal.account": staff_only("legal", "collections_manager", args=ACCOUNT, legal=404,
                                collections_manager=404),
    "legal.record": staff_only("legal", args=ACCOUNT, legal=404, data={
        "kind": "claim_filed", "occurred_on": "2026-11-01", "amount": "10.00"}),
    "legal.correct": staff_only("legal", args={**ACCOUNT, "action_id": "=1"}, legal=404,
                                data={"reason": "Recorded on the wrong account."}),

    # -- collections: assignment and reports for managers; a collector works only the accounts
    # assigned to them (A's account is assigned to nobody in the scenario: 404, like any other
    # collector's account), a manager any account ------------------------------------------
    "collections.assign": staff_only("collections_manager", data={"to": ""}),
    "collections.my_accounts": staff_only(*PLAN_STAFF),
    "collections.account": staff_only(*PLAN_STAFF, args=ACCOUNT, collector=404),
    "collections.log_contact": staff_only(*PLAN_STAFF, args=ACCOUNT, collector=404, data={
        "channel": "phone", "direction": "outbound", "outcome": "reached",
        "occurred_at": "2026-01-05T10:00", "note": "Access matrix."}),
    "collections.reports": staff_only("collections_manager"),
    # Breathing space and support (portal.care.access): customer service and managers on any
    # account, a collector only on accounts assigned to them (A's is not: 404).
    "care.account": staff_only("customer_service", "collector", "collections_manager",
                               args=ACCOUNT, collector=404),
    "care.add": staff_only("customer_service", "collector", "collections_manager", args=ACCOUNT,
                           collector=404, data={"kind": "vulnerability:health",
                                                "starts_on": "2026-11-28", "ends_on": "",
                                                "note": ""}, ok=OK_OR_REDIRECT),
    "care.end": staff_only("customer_service", "collector", "collections_manager",
                           args={"record_id": "=999"}, ok=404, collector=404,
                           data={"reason": "Access matrix."}),
    "collections.figures": staff_only("collections_manager", "risk"),

    # -- champion/challenger: risk defines and stops experiments; managers read them ---------
    "experiments.index": staff_only("risk", "collections_manager"),
    "experiments.new": staff_only("risk", data={
        "name": "Matrix", "kind": "reminder", "profile": "cn", "starts_on": "2027-06-01",
        "ends_on": "2027-06-30", "challenger_percent": "50", "a_name": "A", "b_name": "B",
        "a_template": "standard", "b_template": "short"}),
    "experiments.show": staff_only("risk", "collections_manager", args={
        "experiment_id": "experiment"}),
    "experiments.stop": staff_only("risk", args={"experiment_id": "experiment"}),
}


# ---- running the matrix ---------------------------------------------------------------------

def _values(spec: dict, ids: dict) -> dict:
    return {k: v[1:] if isinstance(v, str) and v.startswith("=") else ids[v]
            for k, v in spec.items()}


def url_of(app, endpoint: str, route: Route, ids: dict, method: str) -> str:
    with app.test_request_context():
        query = _values(route.query, ids) if method == "GET" else {}
        return url_for(endpoint, **_values(route.args, ids), **query)


def mismatch(response, expected, method: str) -> str | None:
    """Why `response` does not match the expected outcome (None when it does)."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == MONITOR:
        return None if status in (200, 503) and response.is_json else f"{status} {location}"
    if status >= 500:
        return f"server error {status}"
    if expected == PUBLIC:
        return None
    if expected in ALLOWED and method == "POST":
        return None if status not in (401, 403, 404) else f"refused with {status}"
    if expected == OK:
        return None if status == 200 else f"{status} {location}".strip()
    if expected == OK_OR_REDIRECT and status in (200, 302) and "login" not in location:
        return None
    if expected == REDIRECT:
        return None if status == 302 and "login" not in location else f"{status} {location}"
    if expected == LOGIN:
        good = status == 302 and "/login" in location and "/staff/login" not in location
        return None if good else f"{status} {location}, not the cardholder sign-in"
    if expected == STAFF_LOGIN:
        return None if status == 302 and "/staff/login" in location else f"{status} {location}"
    return None if status == expected else f"{status} {location}".strip()


# POSTs that an allowed principal may really carry out and that would remove what later
# requests use: run them last.
LAST = ("dispute_admin.delete_rule",)


def _requests(app, ids) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every route: all GETs first (they change nothing), then
    the POSTs, so an allowed POST (a cancel, a withdrawal) cannot change what a GET finds."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods & {"GET", "POST"}:
            found.append((method == "POST", rule.endpoint in LAST, rule.endpoint, method,
                          url_of(app, rule.endpoint, MATRIX[rule.endpoint], ids, method)))
    return [item[2:] for item in sorted(found)]


@pytest.fixture()
def scenario(app, db, make_cardholder, make_account, make_staff, login_as):
    return build_scenario(app, make_cardholder, make_account, make_staff, login_as)


def test_every_route_has_an_access_decision(app):
    routes = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint != "static"}
    undecided = sorted(set(routes) - set(MATRIX))
    assert not undecided, f"routes without an access decision in MATRIX: {undecided}"
    stale = sorted(set(MATRIX) - set(routes))
    assert not stale, f"MATRIX names routes that no longer exist: {stale}"
    other_methods = {e: sorted(r.methods - {"GET", "POST", "HEAD", "OPTIONS"})
                     for e, r in routes.items() if r.methods - {"GET", "POST", "HEAD", "OPTIONS"}}
    assert not other_methods, f"methods the matrix does not check: {other_methods}"
    for endpoint, route in MATRIX.items():
        decided = set(route.who) | {DEACTIVATED}
        assert decided == set(PRINCIPALS), f"{endpoint}: not every principal decided"


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_route_answers_each_principal_as_the_matrix_says(app, scenario, login_as, principal):
    """GET and POST on every route; a refused POST changes no row in any table; B never sees
    A's account number or name."""
    ids = scenario.ids
    failures = []
    reader = client_for(app, login_as, scenario, principal)
    for endpoint, method, path in _requests(app, ids):
        route = MATRIX[endpoint]
        expected = expected_for(route, principal)
        if method == "GET":
            response = reader.get(path)
        else:
            # A fresh session per POST: a sign-out or a flash must not leak into the next one.
            client = client_for(app, login_as, scenario, principal)
            form = {**csrf_fields(client), **route.data}
            before = fingerprint() if expected in DENIED else None
            response = client.post(path, data=form)
            if before is not None:
                changed = changed_tables(before, fingerprint())
                if changed:
                    failures.append(f"POST {path} ({endpoint}) must change nothing for "
                                    f"{principal} but changed {changed}")
        problem = mismatch(response, expected, method)
        if problem:
            failures.append(f"{method} {path} ({endpoint}): expected {expected}, got {problem}")
        if principal == "other":
            body = response.get_data(as_text=True)
            leaked = [s for s in scenario.secrets if s in body]
            if leaked:
                failures.append(f"{method} {path} ({endpoint}) shows B A's {leaked}")
    assert not failures, f"{principal}: {len(failures)} mismatches\n" + "\n".join(failures)


def test_another_cardholders_sub_object_under_my_own_id_is_not_found(app, scenario, login_as):
    """B puts A's notice, plan, attachment, hardship statement or ledger entry under B's own
    account or dispute: still 404 (or refused), and nothing changes."""
    from sqlalchemy import select

    from portal.accounts.models import LedgerEntry
    from portal.extensions import db as _db

    ids = scenario.ids
    client = client_for(app, login_as, scenario, "other")
    mine = f"/accounts/{ids['account_b']}"
    paths = [
        f"{mine}/notices/{ids['notice']}", f"{mine}/notices/{ids['notice']}.pdf",
        f"{mine}/plans/{ids['plan']}", f"{mine}/plans/{ids['plan']}/cancel",
        f"{mine}/plans/{ids['plan']}/agreement.pdf",
        f"{mine}/plans/confirm?kind=instalment&count=6&frequency=monthly"
        f"&first_date={ids['first_date']}&down_payment=0&source=hardship"
        f"&statement={ids['statement']}",
        f"/disputes/{ids['dispute_b']}/files/{ids['attachment']}",
    ]
    answers = {path: client.get(path).status_code for path in paths}
    assert answers == {path: 404 for path in paths}
    # B's own attachment is served to B: the check above is not passing by accident.
    assert client.get(f"/disputes/{ids['dispute_b']}/files/{ids['attachment_b']}").status_code == 200
    home = client.get("/home").get_data(as_text=True)
    assert "Card ending in 7781" in home
    assert all(secret not in home for secret in scenario.secrets)

    # Contesting A's ledger entry from B's own account raises nothing.
    a_entry = _db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.account_id == ids["account"]).order_by(LedgerEntry.id))
    before = fingerprint()
    response = client.post(f"{mine}/disputes/new", data={
        **csrf_fields(client), "category": "wrong_amount", "entries": [str(a_entry)],
        "description": "This entry is wrong, please check it."})
    assert response.status_code in (400, 404)
    assert changed_tables(before, fingerprint()) == []

    # The agent who works both disputes cannot fetch B's file through A's dispute.
    agent = client_for(app, login_as, scenario, "customer_service")
    base = f"/staff/disputes/{ids['dispute']}/files"
    assert agent.get(f"{base}/{ids['attachment']}").status_code == 200
    assert agent.get(f"{base}/{ids['attachment_b']}").status_code == 404


def test_a_tampered_opt_out_token_is_not_found_and_changes_nothing(app, scenario, login_as):
    client = client_for(app, login_as, scenario, "anonymous")
    token = scenario.ids["opt_out"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    before = fingerprint()
    assert client.get(f"/contact/opt-out/{forged}").status_code == 404
    assert client.post(f"/contact/opt-out/{forged}", data=csrf_fields(client)).status_code == 404
    assert changed_tables(before, fingerprint()) == []


def test_a_one_tap_link_shows_no_account_data_before_the_check(app, scenario, login_as):
    """A's live link, opened by every principal: the light check only, none of A's data;
    a wrong answer changes nothing but the link's own count, and nobody is signed in as A."""
    account = _db.session.get(Account, scenario.ids["account"])
    with app.test_request_context():
        issued = links.issue(account, "pay_instalment", amount=50_000,
                             due_on=account.oldest_unpaid_due_date)
        _db.session.commit()
    path = "/l/" + issued.url.rsplit("/l/", 1)[1]
    for principal in PRINCIPALS:
        client = client_for(app, login_as, scenario, principal)
        for response in (client.get(path), client.get("/l/continue")):
            body = response.get_data(as_text=True)
            assert response.status_code in (200, 404), (principal, response.status_code)
            leaked = [s for s in scenario.secrets if s in body and principal != "owner"]
            assert not leaked, f"{principal} sees {leaked} before the check"
            assert "500.00" not in body
    wrong = client_for(app, login_as, scenario, "anonymous")
    before = fingerprint()
    wrong.post(path, data={**csrf_fields(wrong), "card_last4": "0000"})
    assert set(changed_tables(before, fingerprint())) <= {"one_tap_link"}
    assert wrong.get(f"/accounts/{scenario.ids['account']}").status_code == 302


def test_webhook_ignores_the_session_and_refuses_a_bad_signature(app, scenario, login_as):
    """No session makes an event trusted: a wrong signature is 400 and changes nothing."""
    before = fingerprint()
    for principal in ("anonymous", "owner", "collections_manager"):
        client = client_for(app, login_as, scenario, principal)
        response = client.post("/webhooks/payments", data=b'{"id": "evt_x", "type": '
                               b'"payment_intent.succeeded"}', headers={
                                   "Stripe-Signature": "t=1,v1=deadbeef",
                                   "Content-Type": "application/json"})
        assert response.status_code == 400, principal
    assert changed_tables(before, fingerprint()) == []
