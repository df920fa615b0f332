"""bot.offline: the updates its accounts build are the ones Telegram sends (they survive Telegram's
own JSON, aiogram routes them to the right kind of handler, numbered as Telegram numbers them);
no other module builds an update by hand; nothing outside the pipeline reaches inside it."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
from aiogram.types import ChatMemberLeft, ChatMemberMember, Message, Update

from bot.offline import content
from bot.offline.client import Account, Telegram, as_json, forum, private_chat
from bot.offline.session import BOT_USER
from bot.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
CALLER = 100_300_001
DESK = -1001000000999
NOW = 1_750_000_000.0


def accounts() -> tuple[Telegram, Account, Account]:
    telegram = Telegram(update_ids=itertools.count(41), clock=lambda: NOW)
    caller = Account(telegram, *private_chat(CALLER, "uk"))
    user, _ = private_chat(5_550_009, None, "Operator")
    operator = Account(telegram, user, forum(DESK), itertools.count(10_000))
    return telegram, caller, operator


def as_telegram_sends_it(update: Update) -> Update:
    """Through the Bot API's JSON and back, as a webhook or getUpdates delivers it."""
    return Update.model_validate(as_json(update))


def test_a_callers_updates_are_numbered_dated_and_survive_telegrams_json() -> None:
    _, caller, _ = accounts()
    made = [
        caller.text("Привіт"),
        caller.command("start"),
        caller.location(48.5, 37.9),
        caller.contact("+380671234567"),
        caller.contact("+380671234568", own=False),
        *(caller.media(kind) for kind in content.MEDIA),
        caller.forward("пересланий"),
    ]
    assert [u.update_id for u in made] == list(range(41, 41 + len(made)))
    messages = [u.message for u in made]
    assert all(m is not None for m in messages)
    assert [m.message_id for m in messages if m] == list(range(1, len(made) + 1))
    for update in made:
        assert as_telegram_sends_it(update) == update
        assert update.event_type == "message"
        message = update.message
        assert message is not None
        assert message.from_user is not None
        assert message.chat.id == message.from_user.id == CALLER
        assert message.chat.type == "private"
        assert message.date.timestamp() == NOW
    kinds = [m.content_type for m in messages if m]
    assert kinds[:5] == ["text", "text", "location", "contact", "contact"]
    assert kinds[5:-1] == list(content.MEDIA)
    assert [m.contact.user_id for m in messages[3:5] if m and m.contact] == [CALLER, CALLER + 1]
    assert made[1].message is not None
    assert made[1].message.text == "/start"
    assert made[-1].message is not None
    assert made[-1].message.forward_origin is not None


def test_a_press_and_an_edit_are_what_telegram_sends_for_them() -> None:
    _, caller, operator = accounts()
    press = caller.press("b:menu:menu-ready", 1003)
    assert press.event_type == "callback_query"
    query = press.callback_query
    assert query is not None
    shown = query.message
    assert isinstance(shown, Message)
    assert (query.data, query.from_user.id) == ("b:menu:menu-ready", CALLER)
    assert shown.message_id == 1003
    assert shown.from_user == BOT_USER  # the button is on the bot's message, in his chat
    assert shown.chat.id == CALLER
    assert as_telegram_sends_it(press) == press
    again = caller.press("b:menu:menu-ready", 1003).callback_query
    assert again is not None
    assert again.id != query.id  # every press is a query of its own

    sent = caller.text("Петров")
    assert sent.message is not None
    edit = caller.edit(sent.message, text="Петренко")
    assert edit.event_type == "edited_message"
    assert edit.edited_message is not None
    assert edit.edited_message.message_id == sent.message.message_id
    assert (edit.edited_message.text, edit.edited_message.edit_date) == ("Петренко", int(NOW))

    card = operator.press("desk:claim:7", 1, topic=7, query_id="mine")
    assert card.callback_query is not None
    assert card.callback_query.id == "mine"
    assert isinstance(card.callback_query.message, Message)
    assert card.callback_query.message.message_thread_id == 7


@pytest.mark.parametrize("topic", [None, 777])
def test_a_desk_members_messages_are_in_the_forum_and_its_topic(topic: int | None) -> None:
    _, _, operator = accounts()
    update = operator.command("meet", "05:30 | у моста", topic=topic)
    message = update.message
    assert message is not None
    assert message.text == "/meet 05:30 | у моста"
    assert message.chat.id == DESK
    assert message.chat.is_forum
    assert message.message_id == 10_000
    assert message.message_thread_id == topic
    assert message.is_topic_message is (True if topic else None)  # Telegram omits "false"
    assert as_telegram_sends_it(update) == update


def test_joining_the_group_comes_as_a_service_message_and_a_member_update() -> None:
    _, _, operator = accounts()
    joined = operator.joins()
    assert joined.message is not None
    assert joined.message.new_chat_members == [operator.user]
    member = operator.member_joined()
    assert member.event_type == "chat_member"
    change = member.chat_member
    assert change is not None
    assert change.chat.id == DESK
    assert isinstance(change.old_chat_member, ChatMemberLeft)
    assert isinstance(change.new_chat_member, ChatMemberMember)
    assert change.new_chat_member.user == operator.user
    assert as_telegram_sends_it(member) == member


# the update types aiogram delivers to handlers: made anywhere but bot/offline, they would be a
# second way of building updates
_BUILT = re.compile(r"(?<![\w.])(Update|Message|CallbackQuery|ChatMemberUpdated)\(")


def test_no_module_builds_an_update_by_hand() -> None:
    found = []
    for base in ("bot", "flows", "tests", "bench"):
        for path in sorted((ROOT / base).rglob("*.py")):
            if path.is_relative_to(ROOT / "bot" / "offline"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _BUILT.search(line) and not line.lstrip().startswith("#"):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "build updates with bot.offline.client:\n" + "\n".join(found)


_PUBLIC = {name for name in vars(Pipeline) if not name.startswith("_")}


def test_nothing_outside_the_pipeline_reaches_inside_it() -> None:
    """Every use of a `pipeline` (a name or an attribute so called) outside bot/pipeline.py is
    one of its ways in, never its dialogue, deliverer or locks."""
    assert {"from_caller", "from_desk", "note"} <= _PUBLIC
    reached = []
    for base in ("bot", "tests", "bench"):
        for path in sorted((ROOT / base).rglob("*.py")):
            if path == ROOT / "bot" / "pipeline.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Attribute):
                    continue
                inner = node.value
                named = (isinstance(inner, ast.Name) and inner.id == "pipeline") or (
                    isinstance(inner, ast.Attribute) and inner.attr == "pipeline"
                )
                if named and node.attr not in _PUBLIC:
                    reached.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert reached == []
