"""The second factor of a re-call from another account: failed checks counted in Redis, locks.

A probe holding a case code must not be able to guess the birth date behind it. Every failed
check is counted three ways, none of which lives in a conversation (so no `/forget`, withdrawal
or new conversation resets it):

    {prefix}:probe:case:<case id>       string  failed birth-date checks against this case;
                                                at LOCK_AFTER the case links no account until an
                                                operator unlocks it (the count is deleted)
    {prefix}:probe:acct:<digest>        string  failed checks (wrong code or wrong date) of one
                                                calling account; <digest> is a keyed digest of
                                                its conversation key, so the count outlives an
                                                erasure (its own TTL): the one trace that does
    {prefix}:probe:all:<minute>         string  failed checks of every account in that minute
    {prefix}:probe:campaign             string  a campaign alert was raised in this window

No oracle: a code that finds no case is asked for the birth date like any, and the check fails
the same way (counted per account and overall). The birth date is compared with the owner's
sealed field, never with a digest of it (a dump plus the id key would give it back in a second).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Final

from flows import relatives
from flows.store import ConversationStore

__all__ = ["ACCOUNT_TRIES", "LOCK_AFTER", "Check", "LinkGuard", "ProbeLimits"]

LOCK_AFTER: Final = 3  # failed birth dates for one case before linking it locks
ACCOUNT_TRIES: Final = 5  # failed checks of one account before its code step locks
MINUTE: Final = 60


@dataclass(frozen=True, slots=True)
class ProbeLimits:
    """How failures are kept and when they alert."""

    account_ttl: float = 30 * 86400.0  # how long an account's failures are remembered
    campaign_failures: int = 20  # failures across all cases in the window: a campaign
    campaign_window: float = 3600.0

    def __post_init__(self) -> None:
        if self.account_ttl <= 0 or self.campaign_window < MINUTE:
            raise ValueError("probe limits: a positive TTL and a window of a minute or more")
        if self.campaign_failures < 1:
            raise ValueError("probe limits: the campaign threshold must be at least 1")


@dataclass(frozen=True, slots=True)
class Check:
    """What one birth-date check found: whether it linked, and what the desk must hear."""

    matched: bool
    account_left: int  # tries this account has left before its code step locks
    case_failures: int = 0  # failed checks of the case (0: no case behind the code)
    locked_now: bool = False  # this failure locked the case
    campaign: int = 0  # failures in the window, when this one raised the campaign alert


def _int(value: object) -> int:
    if isinstance(value, bytes):
        value = value.decode()
    return int(str(value)) if value is not None else 0


class LinkGuard:
    def __init__(self, store: ConversationStore, limits: ProbeLimits = ProbeLimits()) -> None:
        self.store = store
        self.redis = store.redis
        self.limits = limits
        self._prefix = store.prefix

    # -- names ------------------------------------------------------------------------------
    def case_key(self, case_id: str) -> str:
        return f"{self._prefix}:probe:case:{case_id}"

    def account_key(self, conversation_key: str) -> str:
        return f"{self._prefix}:probe:acct:{self.store.digest('probe', conversation_key)}"

    def _minute_key(self, minute: int) -> str:
        return f"{self._prefix}:probe:all:{minute}"

    # -- reading ----------------------------------------------------------------------------
    async def account_left(self, conversation_key: str) -> int:
        failures = _int(await self.redis.get(self.account_key(conversation_key)))
        return max(0, ACCOUNT_TRIES - failures)

    async def case_failures(self, case_id: str) -> int:
        return _int(await self.redis.get(self.case_key(case_id)))

    async def locked(self, case_id: str) -> bool:
        return await self.case_failures(case_id) >= LOCK_AFTER

    # -- the check --------------------------------------------------------------------------
    async def check(
        self, conversation_key: str, case_id: str | None, birth_date: str, now: float
    ) -> Check:
        """Compare a typed birth date with the case's (sealed) one and count a failure.

        A case that is locked, gone or was never there fails like a wrong date."""
        expected = await self._birth_date_of(case_id) if case_id is not None else None
        locked = case_id is not None and await self.locked(case_id)
        if (
            expected is not None
            and not locked
            and hmac.compare_digest(expected.encode(), birth_date.encode())
        ):
            return Check(True, await self.account_left(conversation_key))
        return await self._failed(conversation_key, case_id if expected else None, now)

    async def _birth_date_of(self, case_id: str) -> str | None:
        owner = await self.store.conversation_of_case(case_id)
        if owner is None:
            return None
        conversation = (await self.store.load(owner, -1)).conversation
        if not conversation.owns_case or conversation.case_id != case_id:
            return None
        if relatives.is_relative_case(conversation):
            return None  # a relative's request links no one, whatever date is typed
        return conversation.fields.get("birth_date")

    async def _failed(self, conversation_key: str, case_id: str | None, now: float) -> Check:
        limits = self.limits
        minute = int(now // MINUTE)
        window = max(1, int(limits.campaign_window // MINUTE))
        account = self.account_key(conversation_key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incrby(account, 1)
            pipe.pexpire(account, round(limits.account_ttl * 1000))
            pipe.incrby(self._minute_key(minute), 1)
            pipe.expire(self._minute_key(minute), int(limits.campaign_window) + MINUTE)
            if case_id is not None:
                pipe.incrby(self.case_key(case_id), 1)
                pipe.pexpire(self.case_key(case_id), round(self.store.retention.registered * 1000))
            for m in range(minute - window + 1, minute + 1):
                pipe.get(self._minute_key(m))
            replies = await pipe.execute()
        recent = replies[6 if case_id is not None else 4 :]
        account_failures = int(replies[0])
        case_failures = int(replies[4]) if case_id is not None else 0
        total = sum(_int(v) for v in recent)
        campaign = 0
        if total >= limits.campaign_failures and await self.redis.set(
            f"{self._prefix}:probe:campaign", "1", nx=True, ex=int(limits.campaign_window)
        ):
            campaign = total
        return Check(
            False,
            max(0, ACCOUNT_TRIES - account_failures),
            case_failures,
            locked_now=case_failures == LOCK_AFTER,
            campaign=campaign,
        )

    # -- the operator's answer --------------------------------------------------------------
    async def unlock(self, case_id: str) -> bool:
        """Linking the case is possible again; whether it was locked (or had failures)."""
        return bool(await self.redis.delete(self.case_key(case_id)))
