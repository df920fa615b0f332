"""The states of the relatives' request, the channel check and the cry for help, through
`engine.handle` (the `Caller` and the paths of test_engine)."""

from __future__ import annotations

import dataclasses

import pytest

from flows import channels, relatives
from flows import surrender as flow
from flows.model import (
    CaseEvent,
    Command,
    Conversation,
    DeleteInput,
    Erase,
    Escalate,
    FlowAction,
    Forwarded,
    OperatorAction,
    Press,
    Priority,
    RegisterCase,
    Relay,
    SilentAlert,
    Text,
)
from tests.unit.test_engine import (
    CASE_ID,
    CODE,
    CODE_DIGEST,
    CTX,
    FORM,
    REF,
    REQUEST_FORM,
    Caller,
    reach,
    refusal,
)

GENUINE = channels.parse(
    """
[[entry]]
name = "Канал проекта"
kind = "channel"
address = "@genuine_channel"
chat_id = -1001234567890
role = "hotline"

[[entry]]
name = "Бот легиона"
kind = "bot"
address = "@legion_apply_bot"
role = "legion-apply"

[[entry]]
name = "Пример"
kind = "bot"
address = "@placeholder_bot"
role = "legion-apply"
example = true
"""
)
WITH_LIST = dataclasses.replace(CTX, genuine=GENUINE)


# ---------------------------------------------------------------------------------------------
# Relatives


@pytest.mark.parametrize("situation", relatives.SITUATIONS)
def test_each_situation_has_its_own_text(situation: str) -> None:
    caller = reach("relatives")
    assert [b.id for b in caller.replies[-1].buttons] == [
        *(f"rel-{s}" for s in relatives.SITUATIONS),
        "operator",
        "back",
    ]
    caller.press(f"rel-{situation}")
    assert caller.state == f"relatives_{situation}"
    assert caller.ids == [f"relatives-{situation}"]
    offered = [b.id for b in caller.replies[0].buttons]
    # a serving relative writes himself: nothing about him is collected from others
    assert ("request" in offered) is (situation != "serving")
    caller.press("back")
    assert caller.state == "relatives"


def test_a_request_is_a_short_sealed_form_with_its_own_case_at_normal_priority() -> None:
    caller = reach("request_review")
    stored = {name: value for name, _, value in REQUEST_FORM}
    assert {k: caller.fields[k] for k in stored} == stored
    assert caller.fields["sought_where"] == "rel-volunteers"
    review = caller.reply("request-review")
    assert review.params["where"] == "rel-volunteers"
    assert review.params["sought-birth"] == "03.03.1999"
    assert review.params["reply-to"] == "reply-here"
    assert review.inline

    caller.press("request-send")
    assert caller.state == "request_sent"
    assert caller.conv.case_id == CASE_ID
    assert caller.conv.owns_case
    assert caller.fields["case_code"] == CODE
    assert "birth_date" not in caller.fields  # nothing a code from elsewhere could link to
    assert caller.of(RegisterCase) == [RegisterCase(CASE_ID, CODE_DIGEST)]
    assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "relatives")]
    assert CaseEvent("registered") in caller.effects
    assert caller.reply("request-sent").params == {"code": CODE}
    # what the relative typed is personal data: never in the meta
    meta = repr(caller.conv.meta())
    assert "Петров" not in meta
    assert "Ольга" not in meta


def test_each_answer_of_the_request_is_deleted_from_the_chat() -> None:
    caller = reach("request_sought_name")
    caller.text("Петров Пётр Петрович")
    assert caller.state == "request_sought_birth"
    assert caller.of(DeleteInput) == [DeleteInput(REF)]


def test_a_bad_answer_in_the_request_says_what_is_expected_once() -> None:
    caller = reach("request_sought_birth")
    caller.text("весной")
    assert caller.state == "request_sought_birth"
    assert caller.replies == [
        refusal("request_sought_birth", "invalid-birth-format", {"example": "17.05.1990"})
    ]
    caller = reach("request_last_seen")
    caller.text("x")
    assert caller.replies == [
        refusal("request_last_seen", "invalid-note-length", {"min": 2, "max": 300})
    ]


def test_the_request_can_be_edited_from_its_review() -> None:
    caller = reach("request_review")
    caller.press("edit-sought-unit")
    assert caller.state == "request_sought_unit"
    assert caller.conv.editing
    caller.text("в/ч 11111")
    assert caller.state == "request_review"
    assert caller.fields["sought_unit"] == "в/ч 11111"
    assert not caller.conv.editing


def test_the_relatives_status_and_what_a_sent_request_leaves_possible() -> None:
    caller = reach("request_asker")
    caller.command("status")
    assert caller.reply("status").params["phase"] == "relatives-form"
    caller = reach("request_sent")
    caller.command("status")
    assert caller.reply("status").params["phase"] == "relatives"
    caller.press("back")
    caller.command("status")
    assert caller.reply("status").params["phase"] == "relatives"
    # one conversation, one case: no surrender form or re-call on top of the request
    caller.press("menu-surrender")
    assert caller.state == "request_sent"
    caller.press("back")
    caller.press("menu-ready")
    assert caller.state == "request_sent"
    caller.press("back")
    caller.press("menu-relative")
    caller.press("rel-missing")
    caller.press("request")
    assert caller.state == "request_sent"  # shown, not sent twice
    assert caller.of(RegisterCase) == []


def test_a_caller_with_a_case_of_his_own_asks_an_operator_about_a_relative() -> None:
    caller = reach("registered")
    caller.press("back")
    caller.press("menu-relative")
    caller.press("rel-ukraine")
    caller.press("request")
    assert caller.state == "handoff"
    assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "relatives")]


def test_forget_erases_a_relatives_request_like_a_callers_case() -> None:
    caller = reach("request_sent")
    caller.command("forget")
    assert caller.fields == {}
    assert caller.of(Erase) == [Erase(wipe_chat=True, case_id=CASE_ID, code_digest=CODE_DIGEST)]


def test_an_aborted_emergency_of_a_relative_goes_back_to_his_request() -> None:
    caller = reach("request_sent")
    caller.command("sos")
    caller.press("sos-yes")
    assert caller.state == "emergency_location"
    caller.send(OperatorAction(FlowAction.ABORT))
    assert caller.state == "request_sent"


# ---------------------------------------------------------------------------------------------
# Is this the real hotline?


def test_the_check_screen_tells_how_to_recognise_the_genuine_bot() -> None:
    caller = Caller(ctx=WITH_LIST).run([Command("start"), Press("menu-check")])
    assert caller.state == "check_channel"
    assert caller.reply("check-info").params == {"hotline": "• Канал проекта: @genuine_channel"}
    caller.text("https://t.me/genuine_channel")
    assert caller.state == "check_channel"
    assert caller.replies == [caller.reply("channel-genuine")]
    assert caller.reply("channel-genuine").params == {
        "name": "Канал проекта",
        "address": "@genuine_channel",
    }
    caller.text("@genuine_channe1")
    assert caller.reply("channel-unknown").params == {"address": "@genuine_channe1"}
    caller.text("@placeholder_bot")  # an example of the list: never vouched for
    assert caller.ids == ["channel-unknown"]
    caller.text("что это?")
    assert caller.replies == [refusal("check_channel", "check-nothing")]
    caller.press("back")
    assert caller.state == "menu"


def test_without_a_list_nothing_is_vouched_for_and_the_packs_say_so() -> None:
    caller = reach("check_channel")
    assert caller.reply("check-info").params == {"hotline": flow.NONE_LISTED}
    caller.text("@genuine_channel")
    assert caller.ids == ["channel-unknown"]


def test_a_link_sent_at_the_menu_is_checked_there() -> None:
    caller = Caller(ctx=WITH_LIST).run([Command("start")])
    caller.text("это настоящий? @legion_apply_bot")
    assert caller.state == "menu"
    assert caller.ids == ["channel-genuine"]


@pytest.mark.parametrize(
    ("origin", "answer"),
    [
        (channels.Origin("channel", "genuine_channel", -1001234567890), "channel-genuine"),
        (channels.Origin("channel", "genuine_channel", -1000000000001), "channel-unknown"),
        (channels.Origin("channel", None, -1000000000001), "channel-unknown"),
        (channels.Origin("bot", "legion_apply_bot"), "channel-genuine"),
        (channels.Origin("user", "someone"), "forward-refused"),
        (channels.Origin("hidden"), "forward-refused"),
        (None, "forward-refused"),
    ],
)
def test_a_forwarded_post_is_checked_in_any_state(
    origin: channels.Origin | None, answer: str
) -> None:
    for state in ("menu", "details_unit", "registered"):
        caller = reach(state, WITH_LIST)
        before = caller.conv
        caller.send(Forwarded("text", origin))
        assert caller.state == state
        assert caller.ids == [answer]
        assert caller.fields == before.fields


def test_a_forwarded_post_while_an_operator_follows_is_also_relayed() -> None:
    caller = reach("handoff", WITH_LIST)
    caller.send(Forwarded("text", channels.Origin("channel", "x_fake_legion", -100123)))
    assert caller.of(Relay) == [Relay(REF, "forward")]
    assert caller.reply("channel-unknown").params == {"address": "@x_fake_legion"}


def test_the_legion_offers_only_the_genuine_way_to_apply_and_collects_nothing() -> None:
    caller = Caller(ctx=WITH_LIST).run([Command("start"), Press("menu-legion")])
    assert caller.reply("legion-info").params == {"apply": "• Бот легиона: @legion_apply_bot"}
    assert flow.SCREENS["legion"].expects == "choice"  # no question is ever asked there
    caller.text("Иванов Иван, 1990, в/ч 12345")
    assert caller.state == "legion"
    assert caller.fields == {}


# ---------------------------------------------------------------------------------------------
# SOS from anywhere


QUIET = [s for s in flow.SOS_SOURCES if s not in flow.TERMINAL | {"start"}]


@pytest.mark.parametrize("state", QUIET)
def test_a_cry_for_help_asks_once_and_no_goes_back_exactly(state: str) -> None:
    caller = reach(state)
    before = caller.conv
    caller.text("Помогите!")
    assert caller.state == "sos_confirm"
    assert caller.ids == ["sos-ask"]
    assert caller.of(Escalate) == []  # not yet: a yes raises it
    caller.press("sos-no")
    assert caller.state == state
    assert caller.fields == before.fields
    assert caller.conv.editing == before.editing


@pytest.mark.parametrize("state", [*QUIET, "start", "completed", "withdrawn"])
@pytest.mark.parametrize("how", ["sos-yes", "second-cry", "command"])
def test_yes_or_a_second_cry_is_the_emergency_at_the_highest_priority(
    state: str, how: str
) -> None:
    caller = reach(state)
    fields = dict(caller.fields)
    caller.command("sos")
    assert caller.state == "sos_confirm"
    if how == "sos-yes":
        caller.press("sos-yes")
    elif how == "second-cry":
        caller.text("срочно")
    else:
        caller.command("sos")
    assert caller.state == "emergency_location"
    assert Escalate(Priority.HIGHEST, "emergency") in caller.effects
    assert caller.fields == fields  # what the form held is kept


def test_sos_at_step_five_of_the_form_keeps_the_four_answers() -> None:
    caller = reach("details_service_number")
    caller.text("СРОЧНО")
    caller.press("sos-yes")
    assert caller.state == "emergency_location"
    assert caller.conv.priority == Priority.HIGHEST
    for name, _, stored in FORM[:4]:
        assert caller.fields[name] == stored


@pytest.mark.parametrize("state", sorted(flow.ESCALATED_STATES - set(flow.EMERGENCY_STATES)))
def test_a_cry_where_an_operator_follows_reaches_the_desk_at_once(state: str) -> None:
    caller = reach(state)
    caller.text("помогите")
    assert caller.state == state
    assert caller.of(Escalate) == [Escalate(Priority.HIGHEST, "help-now")]
    assert caller.of(Relay) == [Relay(REF, "text")]
    assert caller.ids == ["help-coming"]


def test_in_the_emergency_itself_the_words_are_for_the_operator() -> None:
    caller = reach("emergency")
    caller.text("помогите")
    assert caller.state == "emergency"
    assert caller.of(Relay) == [Relay(REF, "text")]
    caller.command("sos")  # the command still reaches the desk again, at the top
    assert caller.of(Escalate) == [Escalate(Priority.HIGHEST, "help-now")]


def test_a_typed_label_means_the_button_of_this_screen_that_does_the_same() -> None:
    caller = reach("premob")
    caller.send(Press("menu-operator"))  # «Связаться с оператором» typed: the menu's twin
    assert caller.state == "handoff"
    caller = reach("registered")
    caller.send(Press("menu-ready"))
    assert caller.state == "recall_declare"


def test_a_conversation_from_before_the_sos_field_loads() -> None:
    conv = Conversation.from_parts({"state": "menu", "confirm_from": None}, {})
    assert conv.sos_from is None


def test_a_genuine_name_over_a_hidden_link_is_judged_by_where_the_link_goes() -> None:
    caller = Caller(ctx=WITH_LIST).run([Command("start"), Press("menu-check")])
    caller.send(Text("@genuine_channel", links=("https://t.me/fake_channel",)))
    assert caller.ids == ["channel-unknown"]
    assert caller.reply("channel-unknown").params == {"address": "@fake_channel"}
    caller.send(Text("наш канал", links=("https://t.me/genuine_channel",)))
    assert caller.ids == ["channel-genuine"]


def test_a_cry_for_help_with_the_safety_word_in_it_changes_nothing_he_sees() -> None:
    caller = reach("safety_word")
    caller.text("ромашка")
    assert caller.state == "registered"
    caller.press("ready")
    caller.text("Я иду сдаваться")
    assert caller.state == "recall_location"
    caller.text("ромашка, помогите")  # written under duress: the desk is told silently
    assert caller.of(SilentAlert) == [SilentAlert("safety-word")]
    assert caller.of(Escalate) == []
    assert "help-coming" not in caller.ids


def test_a_cry_for_help_is_never_taken_as_the_safety_word() -> None:
    caller = reach("safety_word")
    caller.text("помогите")
    assert caller.state == "sos_confirm"
    assert "safety_word" not in caller.fields
    caller.press("sos-no")
    assert caller.state == "safety_word"


def test_while_the_request_waits_what_the_relative_writes_goes_to_its_topic() -> None:
    caller = reach("request_sent")
    caller.text("Ещё: у него шрам на левой руке")
    assert caller.state == "request_sent"
    assert caller.of(Relay) == [Relay(REF, "text")]
    assert caller.replies == []  # the operator answers, not the bot
    caller.send(OperatorAction(FlowAction.END))  # the desk closed it: now he is told what to use
    caller.text("алло?")
    assert caller.of(Relay) == []
    assert caller.replies == [refusal("request_sent", "use-buttons")]


@pytest.mark.parametrize("button", sorted(flow.SOS_BUTTONS))
def test_the_words_of_an_alarm_button_typed_elsewhere_are_a_cry_for_help(button: str) -> None:
    caller = reach("details_unit")
    caller.send(Press(button))  # typed: no screen
    assert caller.state == "sos_confirm"
    caller = reach("handoff")
    caller.send(Press(button))
    assert caller.of(Escalate) == [Escalate(Priority.HIGHEST, "help-now")]
