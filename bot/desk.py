"""The operator desk: a forum supergroup with one topic per case, and the relay through it.

Topics are titled with the case code (or a pseudonymous label before registration) and stage,
never a name. Desk state lives in Redis beside the conversation (same hash tag), with the
caller's chat id sealed; a topic index maps an operator's topic back to the conversation.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.i18n import Translator
from flows import engine
from flows.model import CaseEvent, Conversation, Escalate, Priority, Relay, SilentAlert
from flows.store import ConversationStore

log = structlog.get_logger("hotline.desk")

PRIORITY_NAMES = {
    Priority.NORMAL: "normal",
    Priority.HIGH: "high",
    Priority.HIGHEST: "highest",
}
CLOSING_EVENTS = frozenset({"completed", "withdrawn", "erased"})


def case_label(key: str, conversation: Conversation) -> str:
    """The case code once registered; before that a label derived from the pseudonymous key."""
    return conversation.fields.get("case_code") or f"#{key[:8]}"


class Desk:
    def __init__(
        self,
        bot: Bot,
        store: ConversationStore,
        translator: Translator,
        chat_id: int,
        *,
        language: str = "uk",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.store = store
        self.translator = translator
        self.chat_id = chat_id
        self.language = language
        self.clock = clock

    def t(self, message_id: str, **params: str | int) -> str:
        return self.translator.text(self.language, message_id, params)

    # -- state --------------------------------------------------------------------------------
    def _desk_key(self, key: str) -> str:
        return self.store.key(key, "desk")

    def _topic_key(self, topic_id: int) -> str:
        return f"{self.store.prefix}:topic:{topic_id}"

    async def topic_of(self, key: str) -> int | None:
        raw = await self.store.redis.hget(self._desk_key(key), "topic")
        return int(raw) if raw is not None else None

    async def conversation_of_topic(self, topic_id: int) -> str | None:
        raw = await self.store.redis.get(self._topic_key(topic_id))
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def caller_chat(self, key: str) -> int | None:
        sealed = await self.store.redis.hget(self._desk_key(key), "chat")
        if sealed is None:
            return None
        record = sealed.decode() if isinstance(sealed, bytes) else str(sealed)
        return int(self.store.sealer.unseal(record, key.encode()).decode())

    async def _ensure_topic(self, key: str, conversation: Conversation, chat_id: int) -> int:
        topic = await self.topic_of(key)
        stage = str(engine.status_params(conversation)["phase"])
        title = self.t("desk-topic-title", code=case_label(key, conversation), stage=stage)
        if topic is None:
            created = await self.bot.create_forum_topic(self.chat_id, title[:128])
            topic = created.message_thread_id
            sealed_chat = self.store.sealer.seal(str(chat_id).encode(), key.encode())
            ttl = int(self.store.retention.registered)
            pipe = self.store.redis.pipeline(transaction=False)
            pipe.hset(self._desk_key(key), mapping={"topic": topic, "chat": sealed_chat})
            pipe.expire(self._desk_key(key), ttl)
            pipe.set(self._topic_key(topic), key, ex=ttl)
            await pipe.execute()
        else:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.edit_forum_topic(self.chat_id, topic, name=title[:128])
                await self.bot.reopen_forum_topic(self.chat_id, topic)
        return topic

    # -- effects of the flow ------------------------------------------------------------------
    async def escalate(
        self, key: str, conversation: Conversation, chat_id: int, effect: Escalate
    ) -> None:
        topic = await self._ensure_topic(key, conversation, chat_id)
        priority = PRIORITY_NAMES[effect.priority]
        text = self.t("desk-escalated", priority=priority, reason=effect.reason)
        await self.bot.send_message(self.chat_id, text, message_thread_id=topic)
        label = case_label(key, conversation)
        await self.bot.send_message(
            self.chat_id,
            self.t("desk-queue", code=label, priority=priority, reason=effect.reason),
        )
        log.info("escalated", priority=priority, reason=effect.reason)

    async def relay_from_caller(
        self, key: str, conversation: Conversation, chat_id: int, effect: Relay
    ) -> None:
        topic = await self.topic_of(key)
        if topic is None:
            topic = await self._ensure_topic(key, conversation, chat_id)
        if effect.kind == "edit":
            await self.bot.send_message(
                self.chat_id, self.t("desk-caller-edited"), message_thread_id=topic
            )
        await self.bot.copy_message(
            self.chat_id, chat_id, effect.message_ref, message_thread_id=topic
        )

    async def alert(self, key: str, conversation: Conversation, effect: SilentAlert) -> None:
        topic = await self.topic_of(key)
        text = self.t("desk-silent-alert", reason=effect.reason)
        await self.bot.send_message(self.chat_id, text, message_thread_id=topic)
        log.warning("silent alert", reason=effect.reason)

    async def case_event(self, key: str, conversation: Conversation, effect: CaseEvent) -> None:
        if effect.kind not in CLOSING_EVENTS:
            return
        topic = await self.topic_of(key)
        if topic is None:
            return
        await self.bot.send_message(
            self.chat_id, self.t("desk-case-ended", event=effect.kind), message_thread_id=topic
        )
        with contextlib.suppress(TelegramAPIError):
            await self.bot.close_forum_topic(self.chat_id, topic)

    async def erase(self, key: str) -> None:
        topic = await self.topic_of(key)
        keys = [self._desk_key(key)]
        if topic is not None:
            keys.append(self._topic_key(topic))
        await self.store.redis.delete(*keys)

    # -- operator to caller -------------------------------------------------------------------
    async def relay_to_caller(self, key: str, topic_message_id: int) -> bool:
        chat = await self.caller_chat(key)
        if chat is None:
            return False
        await self.bot.copy_message(chat, self.chat_id, topic_message_id, protect_content=True)
        return True
