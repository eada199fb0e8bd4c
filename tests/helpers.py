"""Small helpers shared by route tests: CSRF tokens, form posts, reading codes."""
from __future__ import annotations

import re
import threading

# A form's token field, plain or prefixed ("wd-csrf_token" on a page with several forms).
_TOKEN = re.compile(r'name="(?:[\w-]+-)?csrf_token" (?:type="hidden" )?value="([^"]+)"')
_TOKEN_BY_ID = re.compile(r'id="csrf_token"[^>]*value="([^"]+)"')


def token_in(html: str) -> str:
    """The CSRF token in a page's HTML (every form of one session carries the same one)."""
    match = _TOKEN.search(html) or _TOKEN_BY_ID.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def csrf_token(client, path: str, *, follow_redirects: bool = False) -> str:
    """The CSRF token a browser would get from the form page at `path`."""
    return token_in(client.get(path, follow_redirects=follow_redirects).get_data(as_text=True))


def post_form(client, path: str, data: dict | None = None, *, form_page: str | None = None,
              **kwargs):
    """POST `data` to `path` with a valid CSRF token taken from `form_page` (default: `path`)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, form_page or path)
    return client.post(path, data=payload, **kwargs)


def last_code(outbox) -> str:
    """The 6-digit code in the newest outbox message."""
    messages = outbox()
    assert messages, "nothing was sent"
    match = re.search(r"\b(\d{6})\b", messages[-1]["body"])
    assert match, messages[-1]["body"]
    return match.group(1)


def run_together(app, work, n: int, *, request_context: bool = False, timeout: float = 60):
    """Run `work(i)` for i in range(n) in n threads released at the same instant, each in its
    own app (or request) context and database session, committing after `work` and rolling
    back when it raises. Returns (results, errors): what the calls returned and what they
    raised. Fails if a thread is still running after `timeout` seconds (a deadlock)."""
    barrier = threading.Barrier(n)
    results, errors = [], []
    from portal.extensions import db

    def run(i):
        context = app.test_request_context() if request_context else app.app_context()
        with context:
            try:
                barrier.wait()
                results.append(work(i))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - returned to the test
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {timeout} s"
    return results, errors


def statements_sent(client, path: str) -> list[tuple[str, dict]]:
    """The SQL statements a GET of `path` sends (it must answer 200): each one's SQL and its
    parameters by name."""
    from sqlalchemy import event

    from portal.extensions import db

    seen = []

    def listener(conn, cursor, statement, params, context, executemany):
        seen.append((statement, dict(context.compiled_parameters[0])
                     if context.compiled_parameters else {}))
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def statements_for(client, path: str) -> int:
    """How many SQL statements a GET of `path` sends (it must answer 200)."""
    return len(statements_sent(client, path))


def tamper(sql: str, **params) -> None:
    """Change stored rows behind the application's back and commit, as someone with the
    database owner's rights would: on PostgreSQL with the append-only triggers switched off
    for the transaction (migration 0016), so the test sees what `audit verify` detects."""
    from sqlalchemy import text

    from portal.extensions import db

    append_only_triggers_off()
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def append_only_triggers_off() -> None:
    """On PostgreSQL, switch off the append-only triggers until the transaction ends (needs a
    superuser, as the suite's database user is; the portal's must not be)."""
    from sqlalchemy import text

    from portal.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))


def empty_tables() -> None:
    """Delete every row of every table, children first, in one transaction (on PostgreSQL
    with the append-only triggers off for it: the suite's own cleanup)."""
    from sqlalchemy import delete

    from portal.extensions import db

    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(delete(table))
