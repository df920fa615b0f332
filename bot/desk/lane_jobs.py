"""A desk lane's job (bot.desk.lane) as it is written, and as it is read back: the effect, the
chat, the conversation's meta, the names of the details given, the answers the card's profile is
made of and the case code, as the effect saw them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.desk.profile import PROFILE_FIELDS
from flows import codec
from flows.model import Conversation, Effect, Escalate, Priority


def job_of(
    op: str,
    conversation: Conversation | None,
    effect: Effect | None,
    chat_id: int | None,
    at: float,
) -> dict[str, Any]:
    priority = int(Priority.NORMAL)
    job: dict[str, Any] = {"op": op, "at": at}
    if conversation is not None:
        priority = max(priority, conversation.priority)
        job["meta"] = conversation.meta()
        # which details he gave (the stage the desk shows depends on it), not what they are
        job["given"] = sorted(conversation.fields)
        # the answers the card's profile is made of (bot.desk.profile: only their category
        # reaches the card)
        shown = {n: conversation.fields[n] for n in PROFILE_FIELDS if n in conversation.fields}
        if shown:
            job["profile"] = shown
        code = conversation.fields.get("case_code")
        if code is not None:
            job["code"] = code
    if isinstance(effect, Escalate):
        priority = max(priority, int(effect.priority))
    if effect is not None:
        job["effect"] = codec.encode_effect(effect)
    if chat_id is not None:
        job["chat"] = chat_id
    job["p"] = priority
    return job


@dataclass(frozen=True, slots=True)
class Job:
    op: str
    effect: Effect | None
    conversation: Conversation
    chat: Any
    priority: int
    since: float


def read_job(job: dict[str, Any]) -> Job:
    """A job as `job_of` wrote it (raises CodecError, KeyError, TypeError or ValueError when it
    is not one)."""
    effect = codec.decode_effect(job["effect"]) if "effect" in job else None
    meta = job.get("meta") or {}
    fields = dict.fromkeys(job.get("given") or [], "")
    if "code" in job:
        fields["case_code"] = job["code"]
    fields.update({str(k): str(v) for k, v in (job.get("profile") or {}).items()})
    conversation = Conversation.from_parts(meta, fields)
    op, chat = str(job["op"]), job.get("chat")
    priority, since = int(job.get("p", Priority.NORMAL)), float(job.get("at", 0))
    return Job(op, effect, conversation, chat, priority, since)
