"""`hotline flow check|diagram` and `hotline keys new`: the dialogue read as a graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from flows import analysis, catalogue
from flows import surrender as flow
from flows.sealing import parse_keys

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_flow_passes_its_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flow", "check"]) == 0
    assert "flow ok" in capsys.readouterr().out


def test_an_unreachable_state_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [row for row in flow.TRANSITIONS if row["dest"] != "legion"]
    monkeypatch.setattr(flow, "TRANSITIONS", rows)
    problems = analysis.problems(set(catalogue.ALL), {})
    assert "state legion is unreachable from start" in problems


def test_a_state_without_a_way_out_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = []
    for row in flow.TRANSITIONS:
        sources = [row["source"]] if isinstance(row["source"], str) else row["source"]
        kept = [source for source in sources if source != "legion"]
        if kept:
            rows.append({**row, "source": kept})
    monkeypatch.setattr(flow, "TRANSITIONS", rows)
    problems = analysis.problems(set(catalogue.ALL), {})
    assert "state legion is not terminal but has no way out" in problems


def test_a_message_missing_from_a_pack_is_reported() -> None:
    pack = set(catalogue.ALL) - {"ask-full-name"}
    problems = analysis.problems(set(catalogue.ALL), {"uk": pack})
    assert problems == ["message ask-full-name is missing from the uk pack"]


def test_the_diagram_is_mermaid_drawn_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flow", "diagram"]) == 0
    drawing = capsys.readouterr().out
    assert drawing.startswith("stateDiagram-v2\n")
    assert "    review --> registered: confirm [form_complete]" in drawing
    assert "    menu --> recall_code: ready" in drawing
    for state in flow.SCREENS:
        assert state in drawing


def test_docs_flow_md_is_the_generated_diagram() -> None:
    assert (ROOT / "docs" / "flow.md").read_text(encoding="utf-8") == analysis.markdown()


def test_keys_new_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new"]) == 0
    line = capsys.readouterr().out.strip()
    (key,) = parse_keys(line)
    assert len(key.secret) == 32
    assert line.startswith(key.key_id + ":")
