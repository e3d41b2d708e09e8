"""Which commands each role sees in its Telegram menu (the order is the menu's order)."""

from __future__ import annotations

EVERYONE = ("help", "instellingen", "privacy", "mijngegevens", "taal", "stop")
BY_ROLE: dict[str, tuple[str, ...]] = {
    "begeleider": (
        "overzicht",
        "nieuw",
        "plaatsingen",
        "afspraak",
        "afspraken",
        "fase",
        "meting",
        "plan",
        "planbespreking",
        "annuleer",
    ),
    "behandelaar": ("overzicht", "plaatsingen", "afspraak", "afspraken", "meting", "plan"),
    "ouder": ("contact", "afspraken"),
    "gezinshuisouder": ("contact", "afspraken"),
    "coordinator": ("team", "overdragen", "organisatie"),
    "admin": (),
}


def commands_for(roles: frozenset[str]) -> list[str]:
    """The menu for someone with these roles: role commands first, then everyone's."""
    names: list[str] = []
    for role in sorted(roles):
        names.extend(name for name in BY_ROLE.get(role, ()) if name not in names)
    return names + [name for name in EVERYONE if name not in names]
