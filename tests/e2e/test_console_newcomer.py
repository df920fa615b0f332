"""The console as a newcomer meets it: every script command is in the README; a number typed
where a number is asked is the answer, not a button; each input is shown once; the desk's timer
runs; `op` lines act as any listed operator or as a stranger; with REDIS_URL a second run with
the same --user-id is answered."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.console import Console, console_settings, run_console
from bot.console_script import operator_line
from bot.offline.session import RecordingSession
from bot.settings import Settings
from tests.e2e.conftest import T, labels

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_COMMANDS = (
    "@location",
    "@contact",
    "@voice",
    "@videonote",
    "@sticker",
    "@photo",
    "@document",
    "@text",
    "@long",
    "@forward",
    "@edit",
    "@old",
    "@user",
    "$CODE",
    "op:",
    "op2:",
    "op?:",
    "op: [",
)


def test_the_readme_lists_every_script_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The console") :]
    for command in SCRIPT_COMMANDS:
        assert f"`{command}" in section, command
    from bot.console_script import MEDIA_WORDS

    for word in MEDIA_WORDS:  # a new kind of message must be documented too
        assert f"`@{word}" in section, word


@pytest.mark.parametrize(
    ("line", "place", "text"),
    [
        ("op: /claim", 1, "/claim"),
        ("op:hello", 1, "hello"),
        ("op2: /claim", 2, "/claim"),
        ("op12: [Взяти]", 12, "[Взяти]"),
        ("op?: /claim", None, "/claim"),
    ],
)
def test_operator_lines(line: str, place: int | None, text: str) -> None:
    parsed = operator_line(line)
    assert parsed is not None
    assert (parsed.place, parsed.text) == (place, text)


@pytest.mark.parametrize("line", ["opera: x", "op0: x", "operator: x", "hop: x", "op"])
def test_other_lines_are_not_operator_lines(line: str) -> None:
    assert operator_line(line) is None


async def console(**settings: Any) -> tuple[Console, io.StringIO]:
    session = RecordingSession()
    app = build_app(
        console_settings(Settings(**settings)),
        session=session,
        redis=fakeredis.FakeAsyncRedis(),
        throttle=False,
        translator=T,
    )
    out = io.StringIO()
    return Console(app, session, out), out


async def conversation_of(shell: Console) -> Any:
    store = shell.app.store
    return (await store.load(store.conversation_key(shell.user_id), -1)).conversation


async def test_a_number_typed_where_a_number_is_asked_is_the_answer() -> None:
    shell, out = await console()
    emergency = T.text("ru", "btn-menu-emergency")
    skip = labels("ru", "emergency_location")[-1]
    try:
        for line in ("/start", f"[{emergency}]", f"[{skip}]"):
            await shell.line(line)
        assert (await conversation_of(shell)).state == "emergency_people"
        assert shell.keys[0].label == labels("ru", "emergency_people")[0]  # [1] is "skip"
        await shell.line("1")
        conversation = await conversation_of(shell)
        assert conversation.state == "emergency_injuries"
        assert conversation.fields.get("emergency_people") == "1"  # his answer, not a skip
        await shell.line("1")  # a screen of buttons: now 1 is the first button
        assert (await conversation_of(shell)).state != "emergency_injuries"
    finally:
        await shell.app.close()
    assert "(no button" not in out.getvalue()


async def test_on_a_terminal_each_input_is_shown_once(monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(["/start"])

    def terminal_input(prompt: str) -> str:
        try:
            line = next(typed)
        except StopIteration:
            raise EOFError from None
        out.write(prompt + line + "\n")  # what a terminal shows: the prompt, then the typing
        return line

    out = io.StringIO()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", terminal_input)
    await run_console(Settings(), script=None, lang="ru", user_id=100_000_051, out=out)
    assert out.getvalue().count("/start") == 1
    assert "bot> " in out.getvalue()


async def test_piped_input_is_shown_once_too() -> None:
    lines = iter(["/start"])

    def read() -> str:
        for line in lines:
            return line
        raise EOFError

    out = io.StringIO()
    await run_console(Settings(), script=None, lang="ru", user_id=100_000_052, out=out, read=read)
    assert out.getvalue().count("you> /start") == 1


async def test_the_desks_timer_runs_in_the_console() -> None:
    """An escalation nobody claims is announced again, by the desk's own periodic task."""
    reannounced = threading.Event()
    out = io.StringIO()
    handoff = T.text("ru", "btn-menu-operator")
    lines = iter(["/start", f"[{handoff}]"])

    def read() -> str:
        for line in lines:
            return line
        reannounced.wait(timeout=20)  # until the tick has posted it (or give up)
        raise EOFError

    class Watch(io.StringIO):
        def write(self, text: str) -> int:
            if "⏰" in text:
                reannounced.set()
            out.write(text)
            return len(text)

    settings = Settings(claim_timeout_minutes=0.01, desk_tick_seconds=0.2)
    await run_console(
        settings, script=None, lang="ru", user_id=100_000_053, out=Watch(), read=read
    )
    assert reannounced.is_set(), out.getvalue()[-2000:]


async def test_op_lines_act_as_any_listed_operator_or_a_stranger() -> None:
    shell, out = await console(operator_ids=(5_551_001, 5_551_002))
    handoff = T.text("ru", "btn-menu-operator")
    try:
        for line in ("/start", f"[{handoff}]", "op2: /claim"):
            await shell.line(line)
        case = await shell.app.desk.state.load(shell.app.store.conversation_key(shell.user_id))
        assert case is not None
        assert case.claimer == shell.app.desk.operators.digest(5_551_002)
        mark = len(out.getvalue())
        await shell.line("op?: /release")
        refused = out.getvalue()[mark:]
        assert T.text("uk", "desk-refused") in refused
        await shell.line("op5: /claim")
        assert "(no operator 5: OPERATOR_IDS lists 2)" in out.getvalue()
    finally:
        await shell.app.close()


@pytest.mark.redis
async def test_with_redis_a_second_run_with_the_same_user_id_is_answered(
    redis_url: str, real_redis: Any
) -> None:
    settings = Settings(
        redis_url=SecretStr(redis_url),
        hotline_seal_keys=SecretStr("k1:" + "A" * 43 + "="),
        hotline_id_key=SecretStr("QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="),
    )
    transcripts = []
    for _ in range(2):
        out = io.StringIO()
        await run_console(settings, script=["/start"], lang="ru", user_id=100_000_054, out=out)
        transcripts.append(out.getvalue())
    first, second = transcripts
    assert "bot> " in first
    assert re.search(r"^bot> ", second, re.M), second  # answered again, not taken as a repeat
