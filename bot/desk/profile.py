"""What the card says of the caller's situation, without saying who he is: his language, how many
they are, the injuries' category, how he reached the desk. A serious injury or a group of five
or more raises the case's priority one step (not a suspected probe's: bot.desk.marks).

The values come from the conversation's sealed fields (the latest answer wins: the emergency's
over the re-call's over the form's); only their category is kept, sealed in the desk record
(`profile`), and the injuries' own words never leave the details. The location never appears
on a card or in a topic: it is in the details, which only the claimer sees, in private.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Final

from flows import relatives
from flows.model import Conversation, Priority

# where each answer is kept, the latest kind of question first
PEOPLE_FIELDS: Final = ("emergency_people", "recall_people", "people")
INJURY_FIELDS: Final = ("emergency_injuries", "recall_injuries", "health")
# what the desk lane carries of the conversation's values (sealed) to tell the card
PROFILE_FIELDS: Final = (*PEOPLE_FIELDS, *INJURY_FIELDS)
INJURY_CHOICES: Final = {
    "health-none": "none",
    "health-light": "light",
    "health-serious": "serious",
}
GROUP_RAISES: Final = 5


@dataclass(frozen=True, slots=True)
class CaseProfile:
    lang: str
    people: int = 0  # 0: not said
    injuries: str = "unknown"  # none | light | serious | described (in his words) | unknown
    via: str = "new"  # new (no case yet) | own | linked (another account) | relatives

    @property
    def urgent(self) -> bool:
        return self.injuries == "serious" or self.people >= GROUP_RAISES

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> CaseProfile:
        data = json.loads(text)
        return cls(
            lang=str(data.get("lang", "ru")),
            people=int(data.get("people", 0)),
            injuries=str(data.get("injuries", "unknown")),
            via=str(data.get("via", "new")),
        )


def _first(conversation: Conversation, names: tuple[str, ...]) -> str:
    return next((conversation.fields[n] for n in names if conversation.fields.get(n)), "")


def profile_of(conversation: Conversation) -> CaseProfile:
    people = _first(conversation, PEOPLE_FIELDS)
    injury = _first(conversation, INJURY_FIELDS)
    injuries = INJURY_CHOICES.get(injury, "described" if injury else "unknown")
    if conversation.case_id is not None:
        via = "own" if conversation.owns_case else "linked"
    elif (
        conversation.state in relatives.SCREENS
        or conversation.return_to in relatives.SCREENS  # asked for an operator from there
        or relatives.is_relative_case(conversation)
    ):
        via = "relatives"
    else:
        via = "new"
    return CaseProfile(
        lang=conversation.lang,
        people=int(people) if people.isdigit() else 0,
        injuries=injuries,
        via=via,
    )


def raised(priority: int) -> int:
    """One step up, never above the highest."""
    return min(int(Priority.HIGHEST), int(priority) + 1)
