"""The shift's commands and canned replies are the same sets wherever they are named."""

from __future__ import annotations

from bot.desk.canned_keys import BUTTON_ROWS
from bot.desk.kinds import COMMANDS, MARK_ACTIONS, SHIFT_COMMANDS
from bot.desk.marks import KINDS
from flows.catalogue_shift import CANNED, CANNED_ARGS, SHIFT_MENU


def test_every_shift_command_is_in_the_groups_menu_and_none_is_a_case_action() -> None:
    assert set(SHIFT_MENU) == {str(command) for command in SHIFT_COMMANDS}
    assert not SHIFT_COMMANDS & COMMANDS


def test_every_mark_has_its_undoing() -> None:
    assert {str(a) for a in MARK_ACTIONS} == {*KINDS, *(f"un{kind}" for kind in KINDS)}


def test_the_card_offers_every_canned_reply_but_the_meeting_which_has_its_own_button() -> None:
    on_card = [name for row in BUTTON_ROWS for name in row]
    assert sorted(on_card) == sorted(set(CANNED) - {"meet"})
    assert set(CANNED_ARGS) <= set(CANNED)
