"""Who may do what, as data: one table of action by role to scope, asked by every flow.

A scope says how far a role reaches for an action:
- `OWN_PLACEMENTS`: only placements this person is staff of in that role (a begeleider's own);
- `ORGANISATION`: every placement and staff member of the organisation this person works for in
  that role (a coordinator's), never another organisation's;
- `OWN_SIDE`: an ouder or gezinshuisouder, about their own participation only.
A role missing from an action's row may not do it at all. Deactivated staff hold no role
(flows/people.load_me leaves them out), so the table never sees them.

The guards (flows/guards.py) turn a row into the checks a step asks; `tests/e2e/test_authz.py`
walks every cell of this table end to end. A new action: one row here, its guard call in the
flow, and its driver in that test.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from storage.models import Role


class Scope(enum.StrEnum):
    OWN_PLACEMENTS = "own_placements"
    ORGANISATION = "organisation"
    OWN_SIDE = "own_side"


class Action(enum.StrEnum):
    # A begeleider's work on a placement.
    CREATE_PLACEMENT = "create_placement"  # /nieuw, in the organisation she works for
    LIST_PLACEMENTS = "list_placements"  # /plaatsingen
    INVITE_FAMILY = "invite_family"  # an invite link for an ouder or gezinshuisouder
    CHANGE_PHASE = "change_phase"  # /fase
    SEND_MEASUREMENT = "send_measurement"  # /meting
    PLAN_MEETING = "plan_meeting"  # /afspraak (and moving or cancelling one's own)
    VIEW_DIGEST = "view_digest"  # /overzicht: answers and free text (a behandelaar's in brief)
    VIEW_DETAILS = "view_details"  # the 🔎 details of one placement under the digest
    VIEW_PLAN = "view_plan"  # /plan: goals, progress, estimate
    EDIT_GOALS = "edit_goals"  # add, adjust, reach, drop a goal; send the plan
    ESTIMATE = "estimate"  # the begeleider's estimate of the collaboration
    REVIEW_PLAN = "review_plan"  # /planbespreking
    END_PLACEMENT = "end_placement"  # the closing steps of the evaluatiefase
    HAND_OVER = "hand_over"  # /overdragen: give placements to another begeleider/behandelaar
    # The coordinator's work on the organisation.
    INVITE_STAFF = "invite_staff"  # invite links for begeleiders, behandelaars, coordinators
    LIST_STAFF = "list_staff"  # /team: staff with their caseloads
    DEACTIVATE_STAFF = "deactivate_staff"
    ORGANISATION_OVERVIEW = "organisation_overview"  # /organisatie: counts, never answers
    PILOT_EXPORT = "pilot_export"  # the pseudonymised export for the pilot's researchers
    # An ouder's or gezinshuisouder's own part.
    ASK_CONTACT = "ask_contact"  # /contact


OWN = Scope.OWN_PLACEMENTS
ORG = Scope.ORGANISATION
SIDE = Scope.OWN_SIDE
B, H, C = Role.BEGELEIDER, Role.BEHANDELAAR, Role.COORDINATOR
OU, GH = Role.OUDER, Role.GEZINSHUISOUDER

PERMISSIONS: Mapping[Action, Mapping[Role, Scope]] = {
    Action.CREATE_PLACEMENT: {B: ORG},
    Action.LIST_PLACEMENTS: {B: OWN, H: OWN},
    Action.INVITE_FAMILY: {B: OWN},
    Action.CHANGE_PHASE: {B: OWN},
    Action.SEND_MEASUREMENT: {B: OWN, H: OWN},
    Action.PLAN_MEETING: {B: OWN, H: OWN},
    Action.VIEW_DIGEST: {B: OWN, H: OWN},
    Action.VIEW_DETAILS: {B: OWN},
    Action.VIEW_PLAN: {B: OWN, H: OWN},
    Action.EDIT_GOALS: {B: OWN, H: OWN},
    Action.ESTIMATE: {B: OWN},
    Action.REVIEW_PLAN: {B: OWN},
    Action.END_PLACEMENT: {B: OWN},
    Action.HAND_OVER: {B: OWN, C: ORG},
    Action.INVITE_STAFF: {C: ORG},
    Action.LIST_STAFF: {C: ORG},
    Action.DEACTIVATE_STAFF: {C: ORG},
    Action.ORGANISATION_OVERVIEW: {C: ORG},
    Action.PILOT_EXPORT: {C: ORG},
    Action.ASK_CONTACT: {OU: SIDE, GH: SIDE},
}

# Every role the table can name, in the order a test walks them.
ROLES: tuple[Role, ...] = (OU, GH, B, H, C)


def scope(action: Action, role: Role) -> Scope | None:
    """How far this role reaches for this action; None: not at all."""
    return PERMISSIONS[action].get(role)


def roles_for(action: Action, within: Scope | None = None) -> frozenset[Role]:
    """The roles that may do this action (only those with this scope, if given)."""
    return frozenset(
        role for role, reach in PERMISSIONS[action].items() if within is None or reach == within
    )
