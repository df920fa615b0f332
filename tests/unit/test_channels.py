"""The team's list of genuine channels, bots and sites, and what a caller's message names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.genuine import SHIPPED
from flows.channels import (
    Candidate,
    GenuineList,
    ListError,
    Origin,
    candidates,
    check_forward,
    parse,
)
from tests.unit.test_fields import PROPERTY

LIST = """
[[entry]]
name = "Хочу жить: сайт"
kind = "site"
address = "https://www.Hochuzhit.com/"
role = "hotline"

[[entry]]
name = "этот бот"
kind = "bot"
address = "@self"
role = "hotline"

[[entry]]
name = "Канал проекта"
kind = "channel"
address = "@Genuine_Channel"
chat_id = -1001234567890
role = "other"

[[entry]]
name = "Бот легиона"
kind = "bot"
address = "legion_apply_bot"
role = "legion-apply"

[[entry]]
name = "Пример"
kind = "bot"
address = "@placeholder_bot"
role = "legion-apply"
example = true
"""


@pytest.fixture
def genuine() -> GenuineList:
    return parse(LIST).with_own_username("Hotline_Test_Bot")


def names(genuine: GenuineList, text: str) -> list[str | None]:
    return [
        (found.name if (found := genuine.find(c)) is not None else None) for c in candidates(text)
    ]


def test_the_file_is_read_and_addresses_normalised(genuine: GenuineList) -> None:
    addresses = [entry.address for entry in genuine.entries]
    assert addresses == [
        "hochuzhit.com",
        "@self",
        "@genuine_channel",
        "@legion_apply_bot",
        "@placeholder_bot",
    ]
    assert genuine.examples == 1


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("https://t.me/genuine_channel", ["Канал проекта"]),
        ("t.me/s/Genuine_Channel/123", ["Канал проекта"]),
        ("telegram.me/genuine_channel?start=1", ["Канал проекта"]),
        ("tg://resolve?domain=genuine_channel", ["Канал проекта"]),
        ("вот он: @GENUINE_CHANNEL.", ["Канал проекта"]),
        ("@hotline_test_bot", ["этот бот"]),  # @self, once the bot knows its handle
        ("https://hochuzhit.com/ru/contacts", ["Хочу жить: сайт"]),
        ("www.hochuzhit.com", ["Хочу жить: сайт"]),
        ("help.hochuzhit.com", ["Хочу жить: сайт"]),  # a subdomain of a listed site
        ("hochuzhit.com.ru", [None]),  # a longer name that starts the same is another site
        ("hochuzhit-com.info", [None]),
        ("@genuine_channe1", [None]),  # a digit for a letter
        ("@genuine_сhannel", [None]),  # a Cyrillic «с»
        ("t.me/+AbCdEf123", [None]),  # an invite link: nobody can tell whose
        ("@placeholder_bot", [None]),  # an example is never vouched for
        ("@legion_apply_bot и @fake_legion_bot", ["Бот легиона", None]),
        ("@a1234 @b1234 @c1234 @d1234", [None, None, None]),  # at most three
        ("просто текст без ссылок", []),
        ("почта ivan@mail.ru", [None]),  # an address at a site is that site, not listed
    ],
)
def test_what_a_message_names_is_checked(
    genuine: GenuineList, text: str, found: list[str | None]
) -> None:
    assert names(genuine, text) == found


def test_self_is_vouched_for_only_once_the_handle_is_known() -> None:
    genuine = parse(LIST)
    assert genuine.find(Candidate("username", "@hotline_test_bot")) is None
    assert genuine.find(Candidate("username", "@self")) is None


def test_the_way_to_apply_lists_only_genuine_entries(genuine: GenuineList) -> None:
    assert [e.address for e in genuine.by_role("legion-apply")] == ["@legion_apply_bot"]
    assert [e.address for e in genuine.by_role("hotline")] == [
        "hochuzhit.com",
        "@hotline_test_bot",
    ]


def test_a_forwarded_post_is_judged_by_the_channel_id_when_the_list_has_it(
    genuine: GenuineList,
) -> None:
    real = Origin("channel", "genuine_channel", -1001234567890)
    assert check_forward(genuine, real) is not None
    renamed = Origin("channel", "new_name", -1001234567890)  # the id outlives a handle
    assert check_forward(genuine, renamed) is not None
    taken = Origin("channel", "Genuine_Channel", -1009999999999)  # the handle, another channel
    assert check_forward(genuine, taken) is None
    assert check_forward(genuine, Origin("channel", None, -1005555555555)) is None
    assert check_forward(genuine, Origin("bot", "legion_apply_bot")) is not None
    assert check_forward(genuine, Origin("hidden")) is None


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('kind = "group"\naddress = "@abcde"', "kind must be one of"),
        ('kind = "bot"\naddress = "@ab"', "@username"),
        ('kind = "bot"\naddress = "@абвгд"', "@username"),
        ('kind = "site"\naddress = "not a domain"', "domain"),
        ('kind = "bot"\naddress = "@abcde"\nrole = "boss"', "role must be one of"),
        ('kind = "bot"\naddress = "@abcde"\nexample = "yes"', "example must be"),
        ('kind = "bot"\naddress = "@abcde"\nchat_id = "x"', "chat_id must be"),
        ('kind = "bot"', "address must be"),
    ],
)
def test_a_broken_entry_is_refused_with_where_and_why(entry: str, complaint: str) -> None:
    text = f'[[entry]]\nname = "x"\n{entry}\n'
    with pytest.raises(ListError, match=complaint) as caught:
        parse(text)
    assert "entry 1" in str(caught.value)


def test_not_toml_is_refused() -> None:
    with pytest.raises(ListError, match="not valid TOML"):
        parse("[[entry]\nname = ")


def test_the_shipped_list_vouches_for_no_placeholder() -> None:
    shipped = parse(SHIPPED.read_text(encoding="utf-8"))
    assert shipped.examples >= 1  # the team is told (at start) the list is unfinished
    for entry in shipped.entries:
        if entry.example:
            assert "ПРИМЕР" in entry.name  # marked as such, also where it would be shown
            assert shipped.find(Candidate("username", entry.address)) is None
            assert shipped.find(Candidate("site", entry.address)) is None
    assert shipped.by_role("legion-apply") == ()  # nothing unverified offered as the way
    hotline = shipped.with_own_username("x_bot").by_role("hotline")
    assert hotline[0].address == "@x_bot"


@given(st.text(max_size=300))
@PROPERTY
def test_any_text_names_at_most_three_known_kinds(text: str) -> None:
    found = candidates(text)
    assert len(found) <= 3
    for candidate in found:
        assert candidate.kind in {"username", "site"}
        assert candidate.value == candidate.value.lower()
