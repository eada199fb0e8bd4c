"""Imports of portal modules sit at the top of a module; one inside a function says why it
must be lazy (a comment with the word "lazy" in that function, before or on the import)."""
import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _portal_import(node) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] == "portal"
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] == "portal"
                                                for a in node.names)


def _unexplained(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for func in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if _portal_import(node):
                before = lines[func.lineno - 1:node.lineno]
                if not any("#" in line and "lazy" in line.lower() for line in before):
                    found.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno}")
    return found


def test_every_import_inside_a_function_says_why_it_is_lazy():
    offenders = [where for path in sorted(PORTAL.rglob("*.py")) for where in _unexplained(path)]
    assert offenders == []


def test_the_check_finds_an_unexplained_import(tmp_path):
    module = tmp_path / "portal" / "m.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from portal.x import y\n    return y\n", encoding="utf-8")
    global PORTAL
    saved, PORTAL = PORTAL, module.parent
    try:
        assert _unexplained(module) == ["portal/m.py:2"]
    finally:
        PORTAL = saved
