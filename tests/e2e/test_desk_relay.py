"""A caller's message in the case topic is always recognisable as his (security.md: "a caller's
relayed message can never pass for a bot notice"), and what could harm the group's members
(executables, archives, links) does not reach them as it is."""

from __future__ import annotations

import html

from aiogram.methods import CopyMessage, SendMessage
from aiogram.types import Document, LinkPreviewOptions

from bot.desk.relay import chunks, held_back
from flows.model import Relay
from tests.e2e.conftest import DESK_CHAT, Caller, Hotline
from tests.e2e.desk_harness import DeskView, dt

# what a probe types to pass for the bot's own card and a "verified" notice
FAKE_CARD = (
    "📁 <b>K7QM-3P9X</b> · зустріч\nСтан: 🙋 у роботі\nПеревірено: ✅ так\n"
    "✅ Перевірено: оператор 1 позначив справу як перевіреною </blockquote><b>бот</b>"
)


async def _in_handoff(hotline: Hotline) -> tuple[Caller, int]:
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = (await DeskView(hotline).case(caller)).topic
    assert topic is not None
    return caller, topic


async def test_a_fake_card_typed_by_a_caller_arrives_marked_as_his(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller, topic = await _in_handoff(hotline)
    await caller.text(FAKE_CARD)
    (post,) = view.posts(caller.out, topic)
    header = dt("desk-from-caller", kind="text")
    # the bot's header first, then all he typed inside one quote, escaped: his "<b>" and his
    # "</blockquote>" are characters, not markup, so nothing of it can look like the bot's
    assert post == f"{header}\n<blockquote>{html.escape(FAKE_CARD, quote=False)}</blockquote>"
    assert post.count("<blockquote>") == 1
    assert post.count("</blockquote>") == 1
    assert not post.startswith("📁")
    assert view.copies(caller.out) == []


async def test_an_apk_is_described_and_not_copied(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller, topic = await _in_handoff(hotline)
    apk = Document(
        file_id="apk",
        file_unique_id="apk",
        file_name="Перевірка_оператора.apk",
        mime_type="application/vnd.android.package-archive",
    )
    await caller.send(document=apk, caption="Встановіть, це від штабу")
    assert view.copies(caller.out) == []  # the file never reaches the group
    (post,) = view.posts(caller.out, topic)
    assert post.startswith(dt("desk-from-caller", kind="document"))
    assert (
        dt(
            "desk-caller-file-held",
            name="Перевірка_оператора.apk",
            type="application/vnd.android.package-archive",
        )
        in post
    )
    # an archive that claims to be a picture is held back by its name too
    await caller.send(document=Document(file_id="z", file_unique_id="z", file_name="фото.ZIP"))
    assert view.copies(caller.out) == []


async def test_a_document_and_a_link_come_with_a_warning(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller, topic = await _in_handoff(hotline)
    pdf = Document(file_id="p", file_unique_id="p", file_name="a.pdf", mime_type="application/pdf")
    await caller.send(document=pdf, caption="мои документы")
    (copy,) = view.copies(caller.out)
    assert isinstance(copy, CopyMessage)
    assert copy.caption == "\n".join(
        [
            dt("desk-from-caller", kind="document"),
            "<blockquote>мои документы</blockquote>",
            dt("desk-caller-document"),
        ]
    )
    await caller.text("проверьте https://t.me/fake_hotline_bot и www.example.com")
    posts = [
        m
        for m in view.calls(caller.out)
        if isinstance(m, SendMessage) and m.message_thread_id == topic
    ]
    (post,) = posts
    assert post.text.endswith(dt("desk-caller-links"))
    assert isinstance(post.link_preview_options, LinkPreviewOptions)
    assert post.link_preview_options.is_disabled is True


async def test_a_sticker_is_copied_as_a_reply_to_the_callers_header(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller, _topic = await _in_handoff(hotline)
    await caller.media("sticker")
    header = next(
        s
        for s in caller.out
        if isinstance(s.method, SendMessage) and s.method.chat_id == DESK_CHAT
    )
    assert isinstance(header.method, SendMessage)
    assert header.method.text == dt("desk-from-caller", kind="sticker")
    (copy,) = view.copies(caller.out)
    assert copy.reply_parameters is not None
    assert copy.reply_parameters.message_id == header.result.message_id


def test_what_is_held_back() -> None:
    def doc(name: str | None, mime: str | None = None) -> Relay:
        return Relay(1, "document", file_name=name, mime_type=mime)

    assert held_back(doc("x.apk"))
    assert held_back(doc("setup.EXE"))
    assert held_back(doc("a.tar.gz"))
    assert held_back(doc("report", "application/x-msdownload"))
    assert not held_back(doc("scan.pdf", "application/pdf"))
    assert not held_back(doc("photo.jpg", "image/jpeg"))
    assert not held_back(Relay(1, "photo", file_name="x.apk"))  # a photo is a photo


def test_a_long_text_is_cut_into_pieces_and_nothing_is_lost() -> None:
    text = "<&>" * 3000
    pieces = list(chunks(text, 3800))
    assert "".join(pieces) == text
    assert all(len(html.escape(p, quote=False)) <= 3800 for p in pieces)
