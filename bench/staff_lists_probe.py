"""One tree's side of bench/staff_lists.py, in a fresh interpreter on that tree's code
(PYTHONPATH names the tree): for each page, the SQL statements one request sends, the median
wall time and Python CPU time of a request in-process (Flask test client, signed-in session),
and the deep page's path as that tree links to it (the "next" link of the page before it: a
numbered page in a tree that pages by number, a key in one that pages by key).

    python bench/staff_lists_probe.py POINTS.json   # prints one JSON object

POINTS.json: {"cookies": {who: "name=value"}, "points": [[label, who, path, deep_from]],
"requests": N}; deep_from is the path of the page before the deep one, or null."""
from __future__ import annotations

import html
import json
import re
import statistics
import sys
import time

NEXT = re.compile(r'rel="next" href="([^"]+)"')


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app()
    seen: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    result = {}
    for label, who, path, deep_from in spec["points"]:
        client = app.test_client()
        client.set_cookie(*spec["cookies"][who].split("=", 1), domain="localhost")
        if deep_from:
            answer = client.get(deep_from)
            found = NEXT.search(answer.get_data(as_text=True))
            if answer.status_code != 200 or not found:
                sys.exit(f"{deep_from}: no next page")
            path = html.unescape(found.group(1))
        for _ in range(3):  # warm: templates compiled, formatters built, pool filled
            if client.get(path).status_code != 200:
                sys.exit(f"{path} did not answer 200 in-process")
        seen.clear()
        client.get(path)
        statements = len(seen)
        walls, cpus = [], []
        for _ in range(spec["requests"]):
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(path)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        result[label] = {"path": path, "statements": statements,
                         "wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
