"""tests/scripts/desk_full_case.txt through `hotline console`: a case from the first contact
through the meetup to "met", with the operator's `op:` lines, as the transcript shows it."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.console import run_console
from bot.settings import Settings
from tests.e2e.conftest import t
from tests.e2e.desk_harness import dt, op_label

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "desk_full_case.txt"
PLACE = "лесополоса у трассы, 200 м на север, белая тряпка на руке"


def _desk(text: str) -> str:
    """A desk text as the transcript prints it (markup gone, lines indented)."""
    plain = re.sub(r"<[^>]+>", "", text)
    return "desk> " + plain.replace("\n", "\n      ")


async def test_the_desk_script_runs_a_case_to_met() -> None:
    out = io.StringIO()
    code = await run_console(
        Settings(),
        script=SCRIPT.read_text(encoding="utf-8").splitlines(),
        lang="ru",
        user_id=100_000_001,
        out=out,
    )
    assert code == 0
    transcript = out.getvalue()
    found = re.search(r"desk> \(topic opened\) (\S+) · ", transcript)
    assert found is not None, transcript
    case_code = found.group(1)
    lines = transcript.splitlines()

    def index(line: str) -> int:
        assert line in transcript, line
        return transcript.index(line)

    opened = index(
        f"desk> (topic opened) {dt('desk-topic-title', code=case_code, stage='recall')}"
    )
    queued = index(
        "desk> (queue) "
        + re.sub(
            r"<[^>]+>", "", dt("desk-queue", code=case_code, priority="high", reason="recall")
        )
    )
    claimed = index(_desk(dt("desk-claimed", operator=op_label(1))))
    details = index(
        _desk(
            "(private) " + dt("desk-details", code=case_code, operator=op_label(1), minutes=5)
        ).splitlines()[0]
    )
    instructions = t("ru", "meeting-instructions", time="05:30", place=PLACE)
    meeting = index("bot> " + re.sub(r"</?b>", "", instructions).splitlines()[0])
    confirm = index(_desk("(notice) " + dt("desk-confirm", action="met")))
    closed = index("desk> (topic closed)")
    ended = index("bot> " + re.sub(r"</?b>", "", t("ru", "completed")).splitlines()[0])
    # the caller's last screen and the topic's closing come in either order (the desk's share
    # goes in its own lane)
    assert opened < queued < claimed < details < meeting < confirm < min(ended, closed)

    # the operator's greeting reached the caller; the "!" note did not
    assert lines.count("bot> (an operator's message)") == 1
    assert "внутренняя заметка" not in "".join(
        line for line in lines if line.startswith(("bot>", "desk>"))
    )
    # the card was kept up to date: taken, verified, and finally completed
    cards = [line for line in lines if line.startswith("desk> (card) ")]
    assert len(cards) >= 4
    assert any(line.startswith("      Веде: " + op_label(1)) for line in lines)
    assert "      Перевірено: ✅ так" in lines
    assert cards[-1] == f"desk> (card) 📁 {case_code} · " + dt("desk-stage", stage="completed")
    # erased once met: /status finds no case
    status = t("ru", "status", phase="none", code="not-given")
    shown = re.sub(r"</?b>", "", status).replace("\n", "\n     ")
    assert transcript.rstrip().endswith("bot> " + shown)
