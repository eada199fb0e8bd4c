"""The harness an outside tester would run: every route of app.url_map, as every kind of
visitor (anonymous, the owner, another cardholder, each staff role), with hostile values that
Hypothesis draws: NUL and other control characters, huge and negative numbers, other scripts'
digits, excess decimals, impossible dates, other users' ids, 10 MB strings.

What must hold for every request:
- no 5xx;
- a request answered 4xx changes no row in any table;
- no access across accounts or roles: a visitor the access matrix (test_access_matrix) denies
  is denied whatever the values, and changes nothing.

Forms are found the way a browser finds them: the POST forms on every page each visitor can
open (their fields and default values), plus the matrix's own data for routes no page offers.

Cost: a fixed seed (derandomized) and HARNESS_EXAMPLES examples per route (default 6) keep it
to a few minutes of CI on two cores. A deeper run, e.g. on PostgreSQL:

    HARNESS_EXAMPLES=200 TEST_DATABASE_URL=postgresql://postgres@127.0.0.1/portal_harness \\
        .venv/bin/python -m pytest -n 2 tests/integration/test_hostile_inputs.py

See docs/hostile-input-harness.md.
"""
from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from werkzeug.exceptions import HTTPException

from tests.access_fixtures import (DEACTIVATED, PRINCIPALS, build_scenario, changed_tables,
                                   client_for, csrf_fields, fingerprint)
from tests.integration.test_access_matrix import (DENIED, LAST, MATRIX, MONITOR, expected_for,
                                                  url_of)

# PostgreSQL is where the outside test found the 500s (NUL in text, integer overflow).
pytestmark = pytest.mark.postgres
if not os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)", allow_module_level=True)

EXAMPLES = int(os.environ.get("HARNESS_EXAMPLES", "6"))
HARNESS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
VISITORS = tuple(p for p in PRINCIPALS if p != DEACTIVATED)
TEN_MB = "x" * (10 * 1024 * 1024)
SWEEP = ("a\x00b", "9" * 30)
# Query parameters the portal reads (filters, paging, plan choices, redirects).
QUERY_KEYS = ("page", "statement", "count", "down_payment", "kind", "frequency", "first_date",
              "status", "profile", "queue", "view", "format", "next", "advanced", "source",
              "from", "to", "bucket", "collector", "setup_intent", "seq", "new_date")


def hostile_text(other_ids: list[int]):
    """One hostile value for a form field or query parameter."""
    numbers = st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.sampled_from(["0", "-1", "2147483648", "9223372036854775808", "1e309", "NaN",
                         "Infinity", "+5", "٣", "१२", "１２", "1_000", "0x10", " 7 "]),
        st.decimals(allow_nan=False, allow_infinity=False, places=9).map(str))
    dates = st.sampled_from(["2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31",
                             "1900-01-01", "2026-11-28T25:61", "28/11/2026", ""])
    controls = st.text(alphabet=st.sampled_from("\x00\x01\x08\x0b\x1b\x7f\x85\u2028\ufeffa1"),
                       min_size=1, max_size=8)
    return st.one_of(
        numbers, dates, controls,
        st.text(max_size=40),
        st.sampled_from([str(i) for i in other_ids] or ["1"]),
        st.sampled_from(["<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd",
                         "//evil.example/", "https://evil.example/", "{}", "[]", "null"]),
        st.just(TEN_MB),
    )


class _Forms(HTMLParser):
    """The POST forms of a page: (action, {field: default value})."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path, self.forms, self._current = page_path, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._current = (a.get("action") or self.page_path, {})
                self.forms.append(self._current)
            else:
                self._current = None
        elif self._current is not None and tag in ("input", "select", "textarea", "button") \
                and a.get("name"):
            fields = self._current[1]
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                fields.setdefault(a["name"], a.get("value") or "y")
            else:
                fields[a["name"]] = a.get("value") or fields.get(a["name"], "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


# endpoint -> fields and defaults; endpoint -> visitors whose pages offer it (both are the same
# for every scenario built by the fixture, so they are found once per test process)
_FIELDS: dict[str, dict[str, str]] = {}
_OFFERED: dict[str, set[str]] = {}


def _endpoint_of(app, path: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method=method)
    except HTTPException:
        return None
    return endpoint


def _requests_of(app, ids, method: str) -> list[tuple[str, str]]:
    return sorted((rule.endpoint, url_of(app, rule.endpoint, MATRIX[rule.endpoint], ids, method))
                  for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static" and method in rule.methods)


def form_fields(app, scenario, login_as) -> dict[str, dict[str, str]]:
    """Every POST form any visitor is offered, by endpoint: its fields and defaults."""
    if not _FIELDS:
        for visitor in VISITORS:
            client = client_for(app, login_as, scenario, visitor)
            for _endpoint, path in _requests_of(app, scenario.ids, "GET"):
                response = client.get(path)
                if response.status_code != 200 or "html" not in response.content_type:
                    continue
                parser = _Forms(path)
                parser.feed(response.get_data(as_text=True))
                for action, fields in parser.forms:
                    endpoint = _endpoint_of(app, action, "POST")
                    if endpoint:
                        _OFFERED.setdefault(endpoint, set()).add(visitor)
                        known = _FIELDS.setdefault(endpoint, {})
                        for name, value in fields.items():
                            known.setdefault(name, value)
    return _FIELDS


def _post_endpoints(app) -> list[str]:
    endpoints = {r.endpoint for r in app.url_map.iter_rules()
                 if "POST" in r.methods and r.endpoint not in LAST}
    return sorted(endpoints)


def _get_endpoints(app) -> list[str]:
    return sorted({r.endpoint for r in app.url_map.iter_rules()
                   if "GET" in r.methods and r.endpoint != "static"})


# The owner's plan is turned into a proposal that went to review needing a collections
# manager, its review reasons stored as text with an amount and dates: a collector may open it
# but decide nothing on it.
NEEDS_A_MANAGER = {("plan_review.approve", "collector"): 403,
                   ("plan_review.reject", "collector"): 403,
                   ("plan_review.counter", "collector"): 403}


@pytest.fixture()
def scenario(app, db, make_cardholder, make_account, make_staff, login_as):
    from portal.extensions import db as _db
    from portal.plans.models import Plan, PlanStatus

    world = build_scenario(app, make_cardholder, make_account, make_staff, login_as)
    plan = _db.session.get(Plan, world.ids["plan"])
    plan.status, plan.started_on, plan.required_role = (PlanStatus.IN_REVIEW, None,
                                                        "collections_manager")
    plan.review_reasons = [{"code": "down_payment_too_small", "params": {"min": "12345"}},
                           {"code": "first_date_too_late", "params": {"latest": "2026-12-28"}},
                           {"code": "cooling_off", "params": {"until": "2026-12-01"}}]
    _db.session.commit()
    return world


def expected(endpoint: str, visitor: str):
    return NEEDS_A_MANAGER.get((endpoint, visitor), expected_for(MATRIX[endpoint], visitor))


def _other_ids(scenario) -> list[int]:
    return [v for k, v in scenario.ids.items() if k.endswith("_b") and isinstance(v, int)] + [
        v for v in scenario.ids.values() if isinstance(v, int)]


def _refused(response) -> bool:
    """A refusal whatever its reason: any 4xx, or a redirect to a sign-in page (hostile values
    may be refused, e.g. 413 for 10 MB, before the access check answers its own 403)."""
    location = response.headers.get("Location", "")
    return 400 <= response.status_code < 500 or (
        response.status_code == 302 and "/login" in location)


def _check(response, before, expected, label, failures):
    if response.status_code >= 500:
        failures.append(f"{label}: server error {response.status_code}")
    elif expected in DENIED and not _refused(response):
        failures.append(f"{label}: a denied visitor got {response.status_code}")
    if before is not None and (400 <= response.status_code < 500 or expected in DENIED):
        changed = changed_tables(before, fingerprint())
        if changed:
            failures.append(f"{label}: answered {response.status_code} but changed {changed}")


def _all_endpoints():
    """The app's POST and GET endpoints, read from a throwaway app at collection time."""
    import tempfile

    from portal import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                          "OUTBOX_DIR": tmp, "UPLOAD_DIR": tmp})
    return _post_endpoints(app), _get_endpoints(app)


POST_ENDPOINTS, GET_ENDPOINTS = _all_endpoints()


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_hostile_form_posts_never_fail_or_change_anything_when_refused(
        app, scenario, login_as, endpoint):
    fields = {**form_fields(app, scenario, login_as).get(endpoint, {}),
              **{k: str(v) for k, v in MATRIX[endpoint].data.items()}}
    names = sorted(name for name in fields if not name.endswith("csrf_token"))
    path = url_of(app, endpoint, MATRIX[endpoint], scenario.ids, "POST")
    failures: list[str] = []

    @HARNESS
    @given(visitor=st.sampled_from(VISITORS),
           values=st.dictionaries(st.sampled_from(names or ["field"]),
                                  hostile_text(_other_ids(scenario)), max_size=4))
    def post(visitor, values):
        client = client_for(app, login_as, scenario, visitor)
        form = {**csrf_fields(client), **fields, **values}
        before = fingerprint()
        response = client.post(path, data=form)
        _check(response, before, expected(endpoint, visitor),
               f"POST {path} as {visitor} with {_short(values)}", failures)

    post()
    # Beside the drawn examples, every field once with the values that broke the portal before
    # (NUL, a number beyond any column), as a visitor the page is offered to.
    for visitor in sorted(_OFFERED.get(endpoint, ()))[:1]:
        for name in names:
            for value in SWEEP:
                client = client_for(app, login_as, scenario, visitor)
                before = fingerprint()
                response = client.post(path, data={**csrf_fields(client), **fields, name: value})
                _check(response, before, expected(endpoint, visitor),
                       f"POST {path} as {visitor} with {_short({name: value})}", failures)
    # A page never offers what the server refuses: the form as offered is not a 403 or 404.
    for visitor in sorted(_OFFERED.get(endpoint, ())):
        client = client_for(app, login_as, scenario, visitor)
        response = client.post(path, data={**csrf_fields(client), **fields})
        if response.status_code in (403, 404) or response.status_code >= 500:
            failures.append(f"POST {path} as {visitor}: offered on their page, answered "
                            f"{response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_hostile_query_strings_and_ids_never_fail(app, scenario, login_as, endpoint):
    route = MATRIX[endpoint]
    path, _, own_query = url_of(app, endpoint, route, scenario.ids, "GET").partition("?")
    own = dict(parse_qsl(own_query))
    int_args = [name for name in route.args if name.endswith("_id") or name == "version"]
    failures: list[str] = []

    @HARNESS
    @given(visitor=st.sampled_from(VISITORS),
           query=st.dictionaries(st.sampled_from(QUERY_KEYS),
                                 hostile_text(_other_ids(scenario)).filter(
                                     lambda v: len(v) < 4000), max_size=3),
           bad_id=st.one_of(st.none(), st.sampled_from(
               ["0", "2147483648", "9" * 30, "٣", "-1"])))
    def get(visitor, query, bad_id):
        client = client_for(app, login_as, scenario, visitor)
        target = path
        if bad_id is not None and int_args:
            target = path.replace(f"/{scenario.ids[route.args[int_args[0]]]}", f"/{bad_id}", 1)
        response = client.get(target, query_string={**own, **query})
        label = f"GET {target} as {visitor} with {_short(query)}"
        monitoring = (expected(endpoint, visitor) == MONITOR and response.status_code == 503
                      and response.is_json)  # a health check's own answer, not a failure
        if response.status_code >= 500 and not monitoring:
            failures.append(f"{label}: server error {response.status_code}")
        elif expected(endpoint, visitor) in DENIED and not _refused(response):
            failures.append(f"{label}: a denied visitor got {response.status_code}")

    get()
    assert not failures, "\n".join(failures)


def _short(values: dict) -> dict:
    return {k: (v if len(v) < 60 else f"{v[:20]!r}...({len(v)} chars)") for k, v in values.items()}
