"""The composition root: Bot, Dispatcher, store, desk and pipeline built from settings.

The console, the tests and production all build the app here, so they run the same parts.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bot.deliver import Deliverer
from bot.desk.actions import DeskActions
from bot.desk.audit import Audit
from bot.desk.canned import CannedReplies
from bot.desk.desk import Desk
from bot.desk.followups import follow_up
from bot.desk.lane import DeskLane
from bot.desk.linking import CaseLinks
from bot.desk.marks import CaseMarks
from bot.desk.operators import OperatorList
from bot.desk.retention import TopicRetention
from bot.desk.service_levels import ClaimTimeouts, ServiceLevels
from bot.desk.shift import ShiftTools
from bot.desk.strangers import Strangers
from bot.desk.talk import copy_to_caller
from bot.ephemeral import SecretMessages
from bot.events import Labels
from bot.genuine import load_genuine, warn_if_unfinished
from bot.group_posts import GroupGate
from bot.hooks import build_consumers, close_consumers, start_consumers
from bot.i18n import Translator
from bot.metrics import BotApiMetrics, UpdateMetrics
from bot.middlewares.damaged import Damaged, OperatorsReady
from bot.middlewares.errors import StoreDown
from bot.middlewares.ratelimit import WINDOW as RATE_WINDOW
from bot.middlewares.ratelimit import CallerRateLimit
from bot.pipeline import Pipeline
from bot.redis_url import connect
from bot.render import Renderer
from bot.routers import caller, operators
from bot.settings import Settings, SettingsError
from bot.shared_slots import SharedSlots
from bot.throttle import Throttle
from flows.dialogue import Dialogue
from flows.hooks import Hooks
from flows.linking import LinkGuard, ProbeLimits
from flows.quota import Quota
from flows.replicas import Replicas
from flows.salts import SealedSalt
from flows.sealing import (
    KeyConfigError,
    Pseudonymizer,
    Sealer,
    SealError,
    ephemeral_keys,
    load_keys,
)
from flows.store import ConversationStore, Retention, StoreUnavailable
from flows.unavailable import milliseconds

log = structlog.get_logger("hotline.app")

CONSOLE_TOKEN = "123456:console-not-a-real-token"  # noqa: S105 - a placeholder, never sent
CONSOLE_DESK_CHAT = -1000000000001
DAY = 86400.0
SWEEP_SECONDS = 15.0  # how often outboxes left by dead processes are looked for


@dataclass(slots=True)
class App:
    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    redis: Redis
    store: ConversationStore
    pipeline: Pipeline
    deliverer: Deliverer
    desk: Desk
    translator: Translator
    throttle: Throttle | None
    audit: Audit
    hooks: Hooks
    desk_actions: DeskActions
    service_levels: ServiceLevels
    dialogue: Dialogue
    update_metrics: UpdateMetrics = field(default_factory=UpdateMetrics)
    api_metrics: BotApiMetrics = field(default_factory=BotApiMetrics)
    _sweeper: asyncio.Task[None] | None = None
    desk_lane: DeskLane | None = None

    async def drain(self) -> None:
        """Until what was handed over so far is delivered, to callers and to the desk (tests,
        the console)."""
        await self.deliverer.drain()
        if self.desk_lane is not None:
            await self.desk_lane.drain()

    async def start(self) -> None:
        """Background work of a serving process: the desk's service levels and clean-up (by one
        process at a time), the hook consumers' queues (a durable one may hold events from
        before a restart), and the outboxes a stopped process left undelivered."""
        warn_if_unfinished(self.dialogue.genuine)
        try:
            await self.desk.operators.ready()
        except SealError as exc:
            # sealed under a key no longer configured: every update tells the caller to try
            # again and alerts the desk (bot.middlewares.damaged); the process still serves
            log.error("the operators' salt does not open", reason=exc.reason)
        self.service_levels.start(self.settings.desk_tick_seconds, self.leads_desk)
        start_consumers(self.hooks)
        await self.deliverer.resume_pending()
        self._sweeper = asyncio.create_task(self.deliverer.sweep(SWEEP_SECONDS))
        if self.desk_lane is not None:
            await self.desk_lane.resume()  # the desk's work a stopped process left

    @property
    def delivering(self) -> bool:
        """The deliverer takes work and, once started, its sweep of left-over outboxes runs
        (for /readyz)."""
        sweeper = self._sweeper
        return self.deliverer.accepting and (sweeper is None or not sweeper.done())

    async def leads_desk(self) -> bool:
        """Whether this process does the desk's periodic work now (held while it ticks, taken
        over by another process once it stops)."""
        name = f"{self.store.prefix}:desk:leader"
        ttl = 2 * self.settings.desk_tick_seconds + 5
        try:
            return await self.deliverer.lease.hold(name, ttl) == 0
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.service_levels.stop()
        await self.deliverer.drain()
        self.deliverer.stop()  # retries scheduled for later die with the process
        if self.desk_lane is not None:
            await self.desk_lane.stop()  # what waits for the group stays in Redis
        await self.desk.aclose()
        await close_consumers(self.hooks)
        await self.bot.session.close()
        if self.throttle is not None:
            await self.throttle.aclose()
        await self.redis.aclose()


def open_redis(settings: Settings) -> Redis:
    if settings.redis_url is not None:
        return connect(settings.redis_url.get_secret_value())
    try:
        import fakeredis  # an embedded, in-process store: dev and console only
    except ImportError:
        raise SettingsError(
            "setting EMBEDDED_STORE: the in-memory store is not installed here (it is the "
            "'embedded' extra, left out of the image): set REDIS_URL"
        ) from None

    log.warning("no REDIS_URL: using an in-memory store, all state is lost on exit")
    return fakeredis.FakeAsyncRedis()


def open_store(settings: Settings, redis: Redis) -> ConversationStore:
    seal_keys = settings.hotline_seal_keys
    try:
        keys = load_keys(
            seal_keys.get_secret_value() if seal_keys is not None else None,
            settings.hotline_seal_key_file,
        )
        ids = (
            Pseudonymizer.from_text(settings.hotline_id_key.get_secret_value())
            if settings.hotline_id_key is not None
            else None
        )
    except KeyConfigError as exc:  # the message names the setting and the problem, never a key
        raise SettingsError(f"setting {exc}") from None
    if not keys or ids is None:
        if not settings.embedded:  # settings refuse this already; never seal with a throw-away key
            raise SystemExit("setting HOTLINE_SEAL_KEYS: required with REDIS_URL")
        log.warning(
            "EPHEMERAL KEYS: no HOTLINE_SEAL_KEYS/HOTLINE_ID_KEY; sealed data is unreadable "
            "after exit. Never run like this in production."
        )
        fresh_keys, fresh_secret = ephemeral_keys()
        keys = keys or fresh_keys
        ids = ids or Pseudonymizer(fresh_secret)
    retention = Retention(
        form=settings.retention_form_days * DAY,
        registered=settings.retention_registered_days * DAY,
    )
    if settings.redis_min_replicas and isinstance(redis, RedisCluster):
        # WAIT counts one connection's writes, and a cluster client spreads them over nodes
        raise SettingsError("setting REDIS_MIN_REPLICAS: not supported with redis+cluster://")
    replicas = Replicas(settings.redis_min_replicas)
    return ConversationStore(redis, Sealer(keys), ids, retention, replicas=replicas)


def build_app(
    settings: Settings,
    *,
    session: BaseSession | None = None,
    redis: Redis | None = None,
    clock: Callable[[], float] = time.time,
    throttle: bool | Throttle = True,
    translator: Translator | None = None,
) -> App:
    """`throttle`: Telegram's limits kept (a Throttle of one's own: with its own clock)."""
    translator = translator or Translator()
    redis = redis if redis is not None else open_redis(settings)
    store = open_store(settings, redis)

    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    if isinstance(throttle, Throttle):
        limiter: Throttle | None = throttle
    elif throttle:
        shared = SharedSlots(redis, store.digest, store.prefix)
        limiter = Throttle(shared=shared, gate=GroupGate())
    else:
        limiter = None
    if limiter is not None:
        session.middleware(limiter)
    api_metrics = BotApiMetrics()
    session.middleware(api_metrics)  # inside the throttle: each request that leaves is counted
    token = settings.bot_token.get_secret_value() if settings.bot_token else CONSOLE_TOKEN
    bot = Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, protect_content=True),
    )

    desk_chat = settings.operator_chat_id or CONSOLE_DESK_CHAT
    hooks = Hooks()
    operator_salt = SealedSalt(redis, store.sealer, store.prefix, "operators")
    desk = Desk(
        bot,
        store,
        translator,
        desk_chat,
        operators=OperatorList(settings.operator_ids, operator_salt.load),
        hooks=hooks,
        language=settings.operator_language,
        clock=clock,
        timezone=settings.desk_timezone,
        details_minutes=settings.details_reveal_minutes,
    )
    webhook_secret = settings.hook_webhook_secret
    hooks.consumers.extend(
        build_consumers(
            settings.hooks,
            desk,
            webhook_url=settings.hook_webhook_url,
            webhook_secret=webhook_secret.get_secret_value().encode() if webhook_secret else None,
            webhook_attempts=settings.hook_webhook_attempts,
            redis=redis,
            prefix=store.prefix,
        )
    )
    audit = Audit(redis, store.prefix, clock=clock)
    secret_messages = SecretMessages(
        bot, store, seconds=settings.code_message_minutes * 60, clock=clock
    )
    guard = LinkGuard(
        store,
        ProbeLimits(
            account_ttl=settings.probe_account_days * DAY,
            campaign_failures=settings.probe_alert_failures,
            campaign_window=settings.probe_alert_window_minutes * 60,
        ),
    )
    desk.links = CaseLinks(desk, guard, audit)
    desk.expiring = secret_messages
    marks = CaseMarks(desk, audit, clock=clock)  # suspected probes, blocked accounts
    desk_lane = DeskLane(desk, clock=clock)  # the desk's work never holds back a caller
    desk_lane.marks = desk.marks = marks
    desk.retention = TopicRetention(
        bot, redis, store.prefix, desk_chat, days=settings.topic_retention_days, clock=clock
    )
    renderer = Renderer(
        bot,
        translator,
        store,
        desk_lane,
        delete_personal_messages=settings.delete_personal_messages,
        secrets=secret_messages,
    )
    deliverer = Deliverer(store, renderer, riders=desk_lane)  # its jobs go with the records
    quota = Quota(settings.rate_limit_per_minute, milliseconds(RATE_WINDOW), clock)
    dialogue = Dialogue(
        store, clock=clock, genuine=load_genuine(settings), guard=guard, quota=quota
    )
    pipeline = Pipeline(dialogue, deliverer)
    desk_actions = DeskActions(desk, pipeline, audit, clock=clock)
    desk_lane.audit = audit
    strangers = Strangers(
        desk,
        audit,
        desk_lane,
        remove=settings.desk_remove_strangers,
        refusal_window=settings.desk_stranger_refusal_minutes * 60,
        clock=clock,
    )
    canned = CannedReplies(desk, desk_actions, audit)
    shift_tools = ShiftTools(desk, desk_actions, audit, canned, marks, clock=clock)
    renderer.desk_done = functools.partial(follow_up, desk, audit)
    renderer.from_operator = functools.partial(copy_to_caller, desk)
    service_levels = ServiceLevels(
        desk,
        claim_timeouts=ClaimTimeouts(
            emergency=settings.claim_timeout_emergency_minutes,
            recall=settings.claim_timeout_recall_minutes,
            normal=settings.claim_timeout_minutes,
        ),
        digest_minutes=settings.desk_digest_minutes,
        clock=clock,
    )

    dispatcher = Dispatcher(
        # conversations live in our store: aiogram's FSM would keep an in-memory record for
        # every id that ever wrote, without bound under a flood
        disable_fsm=True,
        pipeline=pipeline,
        translator=translator,
        labels=Labels(translator),
        desk=desk,
        desk_actions=desk_actions,
        service_levels=service_levels,
        shift_tools=shift_tools,
        strangers=strangers,
        settings=settings,
        store=store,
    )
    update_metrics = UpdateMetrics()
    dispatcher.update.outer_middleware(update_metrics)  # first: it sees every outcome
    dispatcher.update.outer_middleware(StoreDown(translator))
    dispatcher.update.outer_middleware(Damaged(translator, desk))
    dispatcher.update.outer_middleware(OperatorsReady(desk.operators))
    rate_limit = CallerRateLimit(
        translator, per_minute=settings.rate_limit_per_minute, clock=clock, store=store
    )
    dispatcher.message.outer_middleware(rate_limit)
    dispatcher.edited_message.outer_middleware(rate_limit)  # an edit is an update he sends too
    dispatcher.callback_query.outer_middleware(rate_limit)
    # callers' private chats first: most updates are theirs, and the two routers' chats never
    # overlap (the desk is a group: its id is negative, a private chat's is its user's)
    dispatcher.include_routers(caller.build_router(), operators.build_router(desk_chat))
    return App(
        settings,
        bot,
        dispatcher,
        redis,
        store,
        pipeline,
        deliverer,
        desk,
        translator,
        limiter,
        audit=audit,
        hooks=hooks,
        desk_actions=desk_actions,
        service_levels=service_levels,
        dialogue=dialogue,
        update_metrics=update_metrics,
        api_metrics=api_metrics,
        desk_lane=desk_lane,
    )
