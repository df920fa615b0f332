"""Property-based: any sequence of caller input through the real Dispatcher (text of any script,
length and control/bidi characters, commands, old and current buttons, locations, contacts,
media, edits) never crashes, always answers, and leaves the stored conversation readable and in a
state of the dialogue."""

from __future__ import annotations

import asyncio
from typing import Any

import fakeredis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import build_app
from bot.offline.session import RecordingSession
from flows import surrender as flow
from tests.e2e.conftest import MEDIA, Clock, Hotline, T
from tests.e2e.conftest import settings as hotline_settings
from tests.exploration import examples

ALL_BUTTONS = sorted({b.id for screen in flow.SCREENS.values() for b in screen.buttons})

text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=4096
).filter(str.strip)
step = st.one_of(
    st.tuples(st.just("text"), text),
    st.tuples(st.just("command"), st.sampled_from(flow.COMMANDS)),
    st.tuples(st.just("tap"), st.sampled_from(ALL_BUTTONS)),
    st.tuples(st.just("press"), st.sampled_from(ALL_BUTTONS)),
    st.tuples(st.just("media"), st.sampled_from(sorted(MEDIA))),
    st.tuples(st.just("location"), st.floats(-90, 90)),
    st.tuples(st.just("contact"), st.text(alphabet="+0123456789 ()-", max_size=20)),
    st.tuples(st.just("edit"), text),
)


async def _play(steps: list[tuple[str, Any]]) -> None:
    clock = Clock()
    session = RecordingSession()
    app = build_app(
        hotline_settings(),
        session=session,
        redis=fakeredis.FakeAsyncRedis(),
        clock=clock,
        throttle=False,
        translator=T,
    )
    hotline = Hotline(app, session, clock)
    caller = hotline.caller()
    try:
        last = await caller.command("start")
        for kind, value in steps:
            if kind == "text":
                last = await caller.text(value)
            elif kind == "command":
                last = await caller.command(value)
            elif kind == "tap":
                await caller.tap(value)
            elif kind == "press":
                await caller.callback(f"b:menu:{value}", last.message_id)
            elif kind == "media":
                await caller.media(value)
            elif kind == "location":
                await caller.location(value, value / 2)
            elif kind == "contact":
                await caller.contact(value or "0")
            else:
                await caller.edit(last, value)
            conversation = await caller.conversation()  # still opens: sealed and consistent
            assert conversation.state in flow.SCREENS
            relayed = bool(caller.relayed())
            if kind != "press":  # a press is answered on the button itself
                # never a silent drop: an answer to him, or a copy at the operator desk
                assert caller.to_me() or relayed, (kind, conversation.state)
        hotline.assert_all_protected()
    finally:
        app.deliverer.stop()
        await app.drain()


# Always tried, whatever the draw: the characters an adversary reaches for first
NASTY = [
    "\u202eвонавИ\u202c Пётр",  # right-to-left override around a name
    "\u2066\u2067\u2068\u2069\u200e\u200f",  # isolates and marks only
    "\u200b\u200c\u200d\ufeff",  # zero-width only
    "\x00\x01\x1b[31m\x7f",  # NUL, control, an ANSI escape
    "Й" + "\u0301" * 300,  # one letter under a pile of combining marks
    "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 400,  # long emoji ZWJ sequences
    "\u202e" * 4096,
]
NASTY_STEPS = [("text", t) for t in NASTY]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=12))
@example([("tap", "menu-surrender"), ("tap", "declare"), *NASTY_STEPS])  # a question open
@example([("command", "operator"), *NASTY_STEPS, ("edit", NASTY[0])])  # the live relay
@example([("tap", "menu-premob"), *NASTY_STEPS])  # a choice screen
def test_any_caller_input_is_answered_and_never_corrupts_the_conversation(
    steps: list[tuple[str, Any]],
) -> None:
    asyncio.run(_play(steps))
