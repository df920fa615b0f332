"""What the security tests share: a case registered with canary values, a caller's chat as a
seized phone would show it, and the probe's moves."""

from __future__ import annotations

from aiogram.methods import CopyMessage, DeleteMessage, DeleteMessages, SendMessage
from aiogram.types import Message, Update

from tests.e2e.conftest import Caller, Hotline
from tests.e2e.test_canary_e2e import (
    BIRTH,
    CALLER_ID,
    NAME,
    PHONE,
    SERVICE_NUMBER,
    UNIT,
)

SAFETY_WORD = "ромашка"
WRONG_DATES = ("01.01.1980", "02.02.1981", "03.03.1982", "04.04.1983")


async def register_with_canaries(owner: Caller, *, safety_word: bool = True) -> str:
    """The whole form with canary values, confirmed, a safety word set; the case code."""
    await owner.command("start")
    await owner.tap("menu-surrender")
    await owner.tap("declare")
    for answer in (NAME, BIRTH, UNIT, "майор запаса", SERVICE_NUMBER, "4"):
        await owner.text(answer)
    await owner.tap("skip")  # area
    await owner.text(PHONE)
    await owner.tap("health-light")
    await owner.tap("wish-stay")
    await owner.press("confirm")
    conversation = await owner.conversation()
    assert conversation.state == "registered"
    if safety_word:
        await owner.tap("safety-word")
        await owner.text(SAFETY_WORD)
        assert await owner.state() == "registered"
    return conversation.fields["case_code"]


async def owner_of_a_case(hotline: Hotline) -> tuple[Caller, str]:
    owner = hotline.caller(CALLER_ID, "ru")
    return owner, await register_with_canaries(owner)


async def try_code(caller: Caller, code: str, birth: str) -> None:
    """Asked for a code: the code, then the birth date."""
    if await caller.state() != "recall_code":
        await caller.command("start")
        await caller.tap("menu-ready")
    assert await caller.state() == "recall_code"
    await caller.text(code)
    await caller.text(birth)


class Chat(Caller):
    """A caller whose chat is kept as his phone shows it: every message he sent and every one
    the bot sent him, less what the bot deleted."""

    def __init__(self, hotline: Hotline, user_id: int, lang: str) -> None:
        super().__init__(hotline, user_id, lang)
        self.typed: dict[int, str] = {}

    async def sends(self, update: Update) -> Message:
        message = await super().sends(update)
        shown = message.contact or message.location or message.content_type
        self.typed[message.message_id] = message.text or message.caption or str(shown)
        return message

    def on_screen(self) -> dict[int, str]:
        shown: dict[int, str] = dict(self.typed)
        for sent in self.all_messages():
            method = sent.method
            text = method.text if isinstance(method, SendMessage) else "(copied)"
            if isinstance(method, CopyMessage):
                text = f"(copy of {method.from_chat_id}:{method.message_id})"
            shown[int(sent.result.message_id)] = text
        for sent in self.to_me(self.hotline.session.sent):
            if isinstance(sent.method, DeleteMessages):
                for message_id in sent.method.message_ids:
                    shown.pop(message_id, None)
            elif isinstance(sent.method, DeleteMessage):
                shown.pop(sent.method.message_id, None)
        return shown


def chat(hotline: Hotline, user_id: int, lang: str = "ru") -> Chat:
    caller = Chat(hotline, user_id, lang)
    hotline.callers.append(caller)
    return caller


def group_texts(hotline: Hotline) -> list[str]:
    texts: list[str] = []
    for method in hotline.desk():
        for name in ("text", "name", "caption"):
            value = getattr(method, name, None)
            if isinstance(value, str):
                texts.append(value)
        markup = getattr(method, "reply_markup", None)
        rows = getattr(markup, "inline_keyboard", None) or []
        texts += [b.text + " " + (b.callback_data or "") for row in rows for b in row]
    return texts
