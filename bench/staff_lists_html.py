"""The HTML of the staff lists, dumped page by page, to prove that a change to how they are
rendered leaves what they show alone ("same HTML for the same data", issue 15).

    PYTHONPATH=. python bench/staff_lists_html.py OUT_OLD --database bench_stafflists_me  # tree A
    PYTHONPATH=. python bench/staff_lists_html.py OUT_NEW --database bench_stafflists_me  # tree B
    diff -r OUT_OLD OUT_NEW

Run from each tree's root on the database bench/staff_lists.py seeded (`--enrich` first adds
contacts and active plans to accounts the worklist's first pages show, so its "next
instalment" and "last contact" cells are not all empty). Per language (en, zh_Hans): each
list's page 1, page 1,000, the page its "next" link leads to and back by "previous", filtered,
invalid and hand-edited pages, and the dispute queue's other views. The portal's clock is
set to one moment before every request (deadlines read "in 3 hours"); CSRF tokens are blanked.
Each file holds the status and path on its first line."""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
import tempfile
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import staff_lists  # noqa: E402 - beside this file: the seeded database and its sessions

MOMENT = datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)
NEXT = re.compile(r'rel="next" href="([^"]+)"')
PREV = re.compile(r'rel="prev" href="([^"]+)"')
TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')
# (staff member, path): pages beyond each list's first
MORE = [("manager", "/staff/payments?status=succeeded"),
        ("manager", "/staff/payments?date_from=2026-13-01&account=x"),
        ("manager", "/staff/payments?status=failed&date_from=2026-11-01&date_to=2026-12-01&page=3"),
        ("manager", "/staff/plans?status=active"), ("manager", "/staff/plans?status=bogus&page=2"),
        ("manager", "/staff/disputes/?view=mine"),
        ("manager", "/staff/disputes/?view=queue&state=closed"),
        ("manager", "/staff/disputes/?view=legal"), ("agent", "/staff/disputes/?view=mine"),
        ("manager", "/staff/collections/my-accounts?page=3"),
        ("collector", "/staff/collections/my-accounts?page=99999999"),
        ("collector", "/staff/payments?"), ("manager", "/staff/plans/review?after=garbage")]
ENRICH = """
INSERT INTO contact_log (account_id, staff_id, channel, direction, outcome, note, occurred_at,
                         created_at)
SELECT a.id, s.id, 'phone', 'outbound', 'no_answer', 'bench',
       TIMESTAMPTZ '2026-12-01 08:00+00' + (a.id % 977) * interval '1 minute', now()
FROM account a, staff_user s
WHERE s.email = 'collector@bench.example' AND a.id % 200 IN (199, 198);
WITH src AS (
  INSERT INTO plan (account_id, status, source, kind, currency, instalment_count, frequency,
                    first_date, down_payment, balance_at_start, fees_waived, discount,
                    discount_percent, interest_mode, interest_added, total, policy_profile,
                    policy_version, stage, grace_days, created_at, accepted_at, started_on)
  SELECT id, 'active', 'offer', 'instalment', 'USD', 3, 'monthly', DATE '2026-11-20', 0, 30000,
         0, 0, '0', 'frozen', 0, 30000 + id, 'us', 1, 'M1', 10, now(), now(), DATE '2026-11-20'
  FROM account WHERE id % 400 = 399 RETURNING id, first_date, total)
INSERT INTO plan_instalment (plan_id, seq, due_date, amount, paid_amount, status)
SELECT p.id, s, p.first_date + (s - 1) * 30, p.total / 3 + s,
       CASE WHEN s = 1 THEN p.total / 3 + s ELSE 0 END, CASE WHEN s = 1 THEN 'paid' ELSE 'due' END
FROM src p, generate_series(1, 3) s;
ANALYZE;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="directory for the pages (created)")
    parser.add_argument("--database", default="bench_stafflists")
    parser.add_argument("--enrich", action="store_true",
                        help="first add contacts and active plans (once per database)")
    args = parser.parse_args()
    import psycopg

    url = staff_lists.database_url(args.database)
    env = staff_lists.env_for(url, tempfile.mkdtemp(prefix="portal-stafflists-html-"))
    os.environ.update(env)  # portal.config reads the environment when first imported
    with psycopg.connect(url) as conn:
        if args.enrich:
            conn.execute(ENRICH)
        staff = dict(conn.execute(
            "SELECT split_part(email, '@', 1), id FROM staff_user "
            "WHERE email LIKE '%%@bench.example'").fetchall())
    from portal import create_app, timeutil

    timeutil.set_now(MOMENT)
    cookie = staff_lists.cookies(env, staff)
    app = create_app()
    os.makedirs(args.out, exist_ok=True)
    count = 0

    def dump(client, path: str, tag: str) -> str:
        nonlocal count
        timeutil.set_now(MOMENT)  # the clock runs on from a set moment: set it each page
        answer = client.get(path)
        body = TOKEN.sub('name="csrf_token" value=""', answer.get_data(as_text=True))
        count += 1
        with open(os.path.join(args.out, f"{count:03d}-{tag}.html"), "w") as f:
            f.write(f"{answer.status_code} {path}\n{body}")
        return body

    firsts = list(staff_lists.LISTS.values())
    for language in ("en", "zh_Hans"):
        for who, path in firsts + MORE:
            client = app.test_client()
            client.set_cookie(*cookie[who].split("=", 1), domain="localhost")
            client.set_cookie("portal_locale", language, domain="localhost")
            tag = language + "-" + re.sub(r"\W+", "_", path)[:60]
            dump(client, path, tag)
            if (who, path) in firsts:
                sep = "" if path.endswith("?") else "&"
                found = NEXT.search(dump(client, f"{path}{sep}page=1000", tag + "-p1000"))
                if found:
                    back = PREV.search(dump(client, html.unescape(found.group(1)), tag + "-next"))
                    if back:
                        dump(client, html.unescape(back.group(1)), tag + "-prev")
    print(f"{count} pages in {args.out}")


if __name__ == "__main__":
    main()
