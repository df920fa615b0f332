"""Every caller path, replayed from a script by `hotline console --script`.

The scripts in tests/scripts/caller_*.txt are ordinary console input (try one:
`.venv/bin/hotline console --script tests/scripts/caller_emergency.txt`). What the transcript
must show is written in the script itself, as comments the console skips:

    [Хочу сдаться]
    # expect: bot> Чтобы оставить заявку, подтвердите своими словами

Each `# expect: TEXT` must be found in a line of the transcript (`bot> ...` a message to the
caller, its continuation lines indented, `[N] LABEL` its buttons, `desk> ...` the operator
group), and the expectations must be met in the order they are written: each one on a line after
the one that met the previous. Here every script runs in-process through
`bot.console.run_console` (the same code as the CLI, output to a StringIO); a script may
not press a button that is not there or use a line the console does not understand. One script
also runs through the real CLI.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import run_console
from bot.settings import Settings

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
CALLER_SCRIPTS = sorted(SCRIPTS.glob("caller_*.txt"))
# a whole shift of two operators (tests/e2e/test_desk_console.py plays desk_full_case.txt)
SHIFT_SCRIPT = SCRIPTS / "desk_shift.txt"
EXPECT = "# expect:"
REQUIRED = {
    "caller_registration_ru.txt",
    "caller_registration_uk.txt",
    "caller_recall_other_account.txt",
    "caller_emergency.txt",
    "caller_relatives.txt",
    "caller_cancel.txt",
    "caller_forget.txt",
    "caller_bad_input.txt",
}
# what the console prints when a script line could not be played
INVALID = ("(no button contains", "(unknown:")


def expectations(script: Path) -> list[str]:
    lines = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    return [line[len(EXPECT) :].strip() for line in lines if line.startswith(EXPECT)]


def unmet(transcript: str, expected: list[str]) -> str | None:
    """The first expectation not met in order, with where the search was, or None."""
    lines = transcript.splitlines()
    at = 0
    for want in expected:
        found = next((i for i in range(at, len(lines)) if want in lines[i]), None)
        if found is None:
            after = lines[at - 1] if at else "(the start)"
            return f"{want!r} not found after line {at}: {after!r}"
        at = found + 1
    return None


async def replay(lines: list[str]) -> str:
    out = io.StringIO()
    status = await run_console(Settings(), script=lines, lang="ru", user_id=100_000_001, out=out)
    assert status == 0
    return out.getvalue()


def test_the_caller_paths_all_have_a_script() -> None:
    assert {p.name for p in CALLER_SCRIPTS} >= REQUIRED
    for script in CALLER_SCRIPTS:
        assert len(expectations(script)) >= 3, f"{script.name} checks nothing"


def test_the_shift_script_plays_every_tool_of_a_shift() -> None:
    """Two operators, /queue, /handover, canned replies (typed and a button), /probe, and Met
    with its confirmation: each is played and its outcome expected."""
    lines = SHIFT_SCRIPT.read_text(encoding="utf-8").splitlines()
    played = "\n".join(line for line in lines if not line.startswith("#"))
    for needed in ("op: ", "op2: ", "/queue", "/handover 2", "/say ", "/probe", "[Так, зустріч"):
        assert needed in played, needed
    assert len(expectations(SHIFT_SCRIPT)) >= 15


@pytest.mark.parametrize("script", [*CALLER_SCRIPTS, SHIFT_SCRIPT], ids=lambda p: p.stem)
async def test_a_script_replays_with_the_expected_transcript(script: Path) -> None:
    lines = script.read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240 - a small file
    transcript = await replay(lines)
    problem = unmet(transcript, expectations(script))
    assert problem is None, f"{script.name}: {problem}\n\n{transcript}"
    invalid = [line for line in transcript.splitlines() if line.startswith(INVALID)]
    assert invalid == [], f"{script.name} is not valid console input: {invalid}"
    assert "Traceback" not in transcript


def test_the_order_of_expectations_matters() -> None:
    transcript = "bot> one\n[1] A\nbot> two\n"
    assert unmet(transcript, ["bot> one", "bot> two"]) is None
    assert unmet(transcript, ["bot> two", "bot> one"]) is not None
    assert unmet(transcript, ["bot> three"]) is not None


def test_the_cli_replays_a_script() -> None:
    script = SCRIPTS / "caller_emergency_uk.txt"
    hotline = Path(sys.executable).parent / "hotline"
    command = [str(hotline)] if hotline.exists() else [sys.executable, "-m", "bot"]
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "BOT_TOKEN"}}
    done = subprocess.run(
        [*command, "console", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert unmet(done.stdout, expectations(script)) is None, done.stdout
