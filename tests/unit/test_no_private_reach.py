"""No module of bot/ reaches into another object's private names (`actions._refuse`): what one
part offers another is public and said so (bot.desk.actions: refuse, claimer_only, case_of),
so a change inside a class cannot silently break a caller elsewhere. `self`, `cls` and
`super()` are the object's own; `os._exit` is the standard library's public API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {("os", "_exit")}


def _owner(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}()"
    return ast.unparse(node)


def reaches(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") and node.attr.endswith("__"):
            continue
        owner = _owner(node.value)
        if owner in ("self", "cls", "super()") or (owner, node.attr) in ALLOWED:
            continue
        found.append(f"{owner}.{node.attr} (line {node.lineno})")
    return found


def test_no_module_of_the_bot_uses_another_objects_private_names() -> None:
    found = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if (hits := reaches(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_sees_a_reach_into_another_object() -> None:
    assert reaches("await self.actions._claimer_only(1)\nawait actions._refuse()") == [
        "self.actions._claimer_only (line 1)",
        "actions._refuse (line 2)",
    ]
    assert reaches("self._x()\nsuper()._y()\nos._exit(1)\ncls._z\nx.__class__") == []
