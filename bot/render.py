"""Effects of the flow turned into Bot API calls to the caller, the desk and the hooks."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.ephemeral import SecretMessages
from bot.events import ButtonData, LanguageData
from bot.handover import KEPT_NOTHING, Kept
from bot.i18n import Translator
from flows.model import (
    Button,
    CaseEvent,
    Conversation,
    DeleteInput,
    DeskDone,
    Effect,
    Erase,
    Escalate,
    FromOperator,
    LinkNotice,
    RegisterCase,
    Relay,
    Reply,
    Scrub,
    SilentAlert,
)
from flows.steps import SECRET_MESSAGES, TIMED_MESSAGES
from flows.store import Batch, ConversationStore

log = structlog.get_logger("hotline.render")

Keyboard = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
# after each effect of a batch: (effects done, the ids of the messages the last one sent, which
# of them `Scrub` deletes later, what else its record does to the secret messages)
Progress = Callable[[int, list[int], list[int], Kept], Awaitable[None]]

TELEGRAM_DELETE_CHUNK = 100
KEYBOARDS_CACHED = 1024  # more than languages x screens x their button sets
# Telegram's answers that will not change by trying again (TelegramNotFound is a bad request)
PERMANENT = (TelegramBadRequest, TelegramForbiddenError, TelegramEntityTooLarge)


class DeskPort(Protocol):
    """What the renderer needs from the operator desk (bot.desk implements it)."""

    async def escalate(
        self, key: str, conversation: Conversation, chat_id: int, effect: Escalate
    ) -> None: ...

    async def relay_from_caller(
        self, key: str, conversation: Conversation, chat_id: int, effect: Relay
    ) -> None: ...

    async def alert(self, key: str, conversation: Conversation, effect: SilentAlert) -> None: ...

    async def case_event(
        self, key: str, conversation: Conversation, effect: CaseEvent
    ) -> None: ...

    async def erase(self, key: str) -> None: ...

    async def erase_owner(self, key: str, *, keep_topic: bool) -> None: ...

    async def link_notice(self, effect: LinkNotice) -> None: ...


class Renderer:
    def __init__(
        self,
        bot: Bot,
        translator: Translator,
        store: ConversationStore,
        desk: DeskPort,
        *,
        delete_personal_messages: bool = True,
        secrets: SecretMessages | None = None,
    ) -> None:
        self.bot = bot
        self.translator = translator
        self.store = store
        self.desk = desk
        self.delete_personal_messages = delete_personal_messages
        self._keyboards: dict[tuple[str, str, bool, tuple[Button, ...]], Keyboard | None] = {}
        self._steps: dict[tuple[str, int, int], str] = {}
        # the desk's part of an operator's action (bot.desk.actions, built after the renderer)
        self.desk_done: Callable[[str, Conversation, DeskDone], Awaitable[None]] | None = None
        # an operator's message copied to the caller: the ids it sent (bot.desk.talk)
        self.from_operator: Callable[[str, int, FromOperator], Awaitable[list[int]]] | None = None
        self.secrets = secrets or SecretMessages(bot, store, seconds=600)

    async def render(
        self,
        key: str,
        chat_id: int,
        conversation: Conversation,
        batch: Batch,
        *,
        done: int = 0,
        progress: Progress | None = None,
    ) -> None:
        """Apply the batch's effects from the `done`-th on, telling `progress` after each how
        many are done and which messages it sent (the deliverer records both before the next
        effect goes). Telegram refusing one for good (blocked, chat gone, bad request) is logged
        and skipped: it must not hold back the rest, nor every later batch of the conversation.
        Anything else (network, 429s in a row, the store) raises: the batch is tried again."""
        if any(isinstance(e, RegisterCase | Erase) for e in batch.effects):
            await self.store.apply_index_effects(key, batch.effects)
        found = batch.secrets  # as its commit read them: true until it sends or scrubs
        for n, effect in enumerate(batch.effects):
            if n < done:
                continue
            sent: list[int] = []
            kept = KEPT_NOTHING
            try:
                if isinstance(effect, Scrub) and progress is not None:
                    scrubbed = await self.secrets.scrub(key, chat_id, by_record=True, found=found)
                    kept, found = Kept(scrubbed=scrubbed), None
                else:
                    # after an erase too, the ids of what is sent are kept (48 h, apart from
                    # the case, nothing personal): a later /forget wipes the goodbye as well
                    sent = await self.apply(key, chat_id, conversation, effect)
            except PERMANENT as exc:
                log.error(
                    "effect refused by Telegram",
                    effect=type(effect).__name__,
                    error=type(exc).__name__,
                )
            if sent:
                found = None
            secret = isinstance(effect, Reply) and effect.message_id in SECRET_MESSAGES
            timed = (
                isinstance(effect, Reply) and effect.message_id in TIMED_MESSAGES and bool(sent)
            )
            if progress is not None:
                # a secret message is remembered with the progress, in the same round trip, and
                # a timed one's chat id (sealed) for the sweep
                if timed:
                    kept = Kept(chat=self.secrets.sealed_chat(key, chat_id))
                await progress(n + 1, sent, sent[:1] if secret else [], kept)
                if timed:  # after the record: Redis failing here must not send it twice
                    await self.secrets.schedule(key, sent[0])
            elif sent:
                await self.store.remember_chat_message(key, sent[0])
                if secret:
                    await self.secrets.remember(key, chat_id, sent[0], timed=timed)

    async def apply(
        self, key: str, chat_id: int, conversation: Conversation, effect: Effect
    ) -> list[int]:
        """Apply one effect; the ids of the messages it sent to the caller (for /forget)."""
        if isinstance(effect, Reply):
            return [await self.reply(chat_id, conversation.lang, effect)]
        if isinstance(effect, FromOperator):
            if self.from_operator is None:
                return []
            return await self.from_operator(key, chat_id, effect)
        await self._apply(key, chat_id, conversation, effect)
        return []

    async def _apply(
        self, key: str, chat_id: int, conversation: Conversation, effect: Effect
    ) -> None:
        if isinstance(effect, DeleteInput):
            if self.delete_personal_messages:
                await self._delete(chat_id, [effect.message_ref])
        elif isinstance(effect, Escalate):
            await self.desk.escalate(key, conversation, chat_id, effect)
        elif isinstance(effect, Relay):
            await self.desk.relay_from_caller(key, conversation, chat_id, effect)
        elif isinstance(effect, SilentAlert):
            await self.desk.alert(key, conversation, effect)
        elif isinstance(effect, CaseEvent):
            await self.desk.case_event(key, conversation, effect)
        elif isinstance(effect, DeskDone):
            if self.desk_done is not None:
                await self.desk_done(key, conversation, effect)
        elif isinstance(effect, Scrub):
            await self.secrets.scrub(key, chat_id)
        elif isinstance(effect, LinkNotice):
            await self.desk.link_notice(effect)
        elif isinstance(effect, Erase):
            await self.secrets.scrub(key, chat_id)  # also when the chat is not wiped
            if effect.linked and effect.case_id is not None:
                await self._erase_linked_case(key, effect.case_id, keep_topic=effect.met)
            await self.desk.erase(key)
            if effect.wipe_chat:
                await self._wipe_chat(key, chat_id)

    async def _erase_linked_case(self, key: str, case_id: str, *, keep_topic: bool) -> None:
        """The conversation was linked to a case another conversation owns: the whole case goes.
        The owner's desk record first (with the case's topic, unless the case was met: then
        the topic stays closed until bot.desk.retention deletes it, as any met case's does),
        then the owner's conversation and the indexes, through which a repeat of the batch
        finds the owner again."""
        owner = await self.store.conversation_of_case(case_id)
        if owner is not None and owner != key:
            await self.desk.erase_owner(owner, keep_topic=keep_topic)
            await self.secrets.forget(owner)
        erased = await self.store.erase_linked_case(case_id)
        log.info("linked case erased", owner_found=owner is not None, owner_erased=erased)

    def text(self, lang: str, reply: Reply) -> str:
        # what the caller typed is shown inside HTML: escape it, or Telegram refuses the message
        params = {k: html.escape(v) if isinstance(v, str) else v for k, v in reply.params.items()}
        body = self.translator.text(lang, reply.message_id, params)
        if reply.step is not None:
            body = self._step(lang, *reply.step) + "\n" + body
        return body

    def _step(self, lang: str, k: int, n: int) -> str:
        """ "Step k of n", formatted once per language and step (the flow's, a bounded set):
        Fluent formats a number through babel, some 10 µs each."""
        key = (lang, k, n)
        header = self._steps.get(key)
        if header is None:
            if len(self._steps) >= KEYBOARDS_CACHED:
                self._steps.clear()
            header = self._steps[key] = self.translator.text(lang, "step", {"k": k, "n": n})
        return header

    def keyboard(self, lang: str, reply: Reply, screen: str) -> Keyboard | None:
        """The markup of a reply; built once per language, screen and buttons (they come from
        the flow data, a bounded set), not as a handful of pydantic models per message."""
        key = (lang, screen, reply.inline, reply.buttons)
        try:
            return self._keyboards[key]
        except KeyError:
            pass
        if len(self._keyboards) >= KEYBOARDS_CACHED:
            self._keyboards.clear()
        markup = self._keyboards[key] = self._build_keyboard(lang, reply, screen)
        return markup

    def _build_keyboard(self, lang: str, reply: Reply, screen: str) -> Keyboard | None:
        label = self.translator.text
        if reply.inline:
            rows = []
            for button in reply.buttons:
                if button.id.startswith("lang-"):
                    data = LanguageData(lang=button.id.removeprefix("lang-")).pack()
                else:
                    data = ButtonData(screen=screen, button=button.id).pack()
                rows.append(
                    [InlineKeyboardButton(text=label(lang, button.label), callback_data=data)]
                )
            return InlineKeyboardMarkup(inline_keyboard=rows)
        if not reply.buttons:
            return None
        keys = [
            KeyboardButton(
                text=label(lang, b.label),
                request_contact=b.kind == "contact" or None,
                request_location=b.kind == "location" or None,
            )
            for b in reply.buttons
        ]
        rows_of_two = [keys[i : i + 2] for i in range(0, len(keys), 2)]
        return ReplyKeyboardMarkup(keyboard=rows_of_two, resize_keyboard=True, is_persistent=True)

    async def reply(self, chat_id: int, lang: str, reply: Reply) -> int:
        """Send a reply; its message id."""
        markup = self.keyboard(lang, reply, reply.screen or "")
        if markup is None and reply.message_id in _KEYBOARD_CLOSERS:
            markup = _REMOVE_KEYBOARD
        message = await self.bot.send_message(
            chat_id, self.text(lang, reply), reply_markup=markup, protect_content=True
        )
        return message.message_id

    async def _delete(self, chat_id: int, message_ids: list[int]) -> None:
        for start in range(0, len(message_ids), TELEGRAM_DELETE_CHUNK):
            chunk = message_ids[start : start + TELEGRAM_DELETE_CHUNK]
            # too old to delete, or already gone: nothing more can be done about it (a network
            # failure raises: the batch is tried again, the ids still remembered)
            with contextlib.suppress(*PERMANENT):
                await self.bot.delete_messages(chat_id, chunk)

    async def _wipe_chat(self, key: str, chat_id: int) -> None:
        message_ids = await self.store.chat_messages(key)
        await self._delete(chat_id, message_ids)
        await self.store.forget_chat_messages(key)
        log.info("chat wiped", messages=len(message_ids))


_REMOVE_KEYBOARD = ReplyKeyboardRemove()
# Screens without buttons after which an old reply keyboard must not linger
_KEYBOARD_CLOSERS = frozenset(
    {"emergency-wait", "completed", "withdrawn", "forget-done", "greeting"}
)
