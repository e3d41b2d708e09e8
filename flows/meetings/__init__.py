"""Meetings of the route, one concern per module.

- places.py: a typed place must not be an address (`is_address`).
- notices.py: what a message about a meeting shows and who gets it; the conversation's name.
- chat.py: /afspraak, planning step by step (`begin`, `press`, `typed`).
- manage.py: /afspraken, list, move, cancel, and the invitees' answers (`rsvp`).
- reminders.py: the clock: reminders, route meetings that are due, questionnaires.

Types, who is invited by default and the route's cadence are the route's (flows/route.py);
the timing rules are `MeetingRules` (flows/settings.py). Callers use the names below.
"""

from flows.meetings.chat import begin, press, typed
from flows.meetings.manage import ask_cancel, ask_move, cancel, rsvp, upcoming
from flows.meetings.notices import FLOW, meeting_details
from flows.meetings.places import is_address
from flows.meetings.reminders import DueMeeting, due_route_meetings, plan

__all__ = [
    "FLOW",
    "DueMeeting",
    "ask_cancel",
    "ask_move",
    "begin",
    "cancel",
    "due_route_meetings",
    "is_address",
    "meeting_details",
    "plan",
    "press",
    "rsvp",
    "typed",
    "upcoming",
]
