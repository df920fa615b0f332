"""docs/threat-model.md ties every line to the test that proves it: each row of its tables
names at least one test, and every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "threat-model.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def test_every_row_of_the_threat_model_names_a_test_that_exists() -> None:
    rows = [
        line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ")
        and not line.startswith(("| what", "| risk"))
        and "---" not in line
    ]
    assert len(rows) >= 20
    for row in rows:
        references = REFERENCE.findall(row)
        assert references, f"a line of the threat model names no test: {row[:80]}"
        for path, name in references:
            source = (ROOT / path).read_text(encoding="utf-8")
            assert not name or f"def {name}(" in source, (path, name)


def test_each_compromise_of_the_issue_has_its_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    for compromise in (
        "## Redis dump only",
        "## Redis dump + HOTLINE_ID_KEY",
        "## Redis dump + sealing keys",
        "## A seized caller phone",
        "## A seized operator phone, an infiltrated group member",
        "## A probe holding a case code",
    ):
        assert compromise in text
