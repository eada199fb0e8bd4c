import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "portal" / "domain"
FORBIDDEN = {"flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug"}


def test_domain_modules_import_neither_flask_nor_sqlalchemy():
    offenders = []
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


# Pure modules, and what loading one must never load (a package __init__ importing a service
# would drag the database in at run time, which the import contracts cannot see).
PURE = ("portal.domain.money", "portal.domain.schedule", "portal.events",
        "portal.journal.feed_rules", "portal.journal.feed_phone", "portal.collections.rules",
        "portal.contact.rules",
        "portal.disputes.rules", "portal.payments.rules", "portal.plans.rules",
        "portal.policy.rules", "portal.experiments.rules")
LOADED_CHECK = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
                        ("sqlalchemy", "flask_sqlalchemy", "flask_login", "flask_wtf")
                        or m == "portal.extensions")))
"""


def test_loading_a_pure_module_loads_no_database_and_no_web_framework_extension():
    import json
    import sys

    from tests.clock import child_environ, run_child

    root = Path(__file__).resolve().parents[2]
    loaded = {}
    for module in PURE:
        done = run_child([sys.executable, "-c", LOADED_CHECK, module], cwd=root,
                         env=child_environ(), timeout=60)
        assert done.returncode == 0, done.stderr
        loaded[module] = json.loads(done.stdout)
    assert loaded == {module: [] for module in PURE}
