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
