"""What of a caller's event a relay to the desk carries: the words, not only a message id.

The desk shows a caller's words itself, inside a quote under a header no caller text can make
(so nothing he types passes for a bot notice), and can do so after his message was deleted from
his chat (answers with personal data are deleted once captured).
"""

from __future__ import annotations

from flows.model import Event, Media, Press, Relay, Text


def relay_of(event: Event | None, message_ref: int, kind: str) -> Relay:
    if isinstance(event, Text):
        return Relay(message_ref, kind, text=event.text)
    if isinstance(event, Press):
        # a button, pressed or typed from his keyboard: the message id of its label, which the
        # desk shows in the operators' language
        return Relay(message_ref, kind, text=f"btn-{event.button}")
    if isinstance(event, Media):
        return Relay(
            message_ref,
            kind,
            text=event.caption,
            file_name=event.file_name,
            mime_type=event.mime_type,
        )
    return Relay(message_ref, kind)
