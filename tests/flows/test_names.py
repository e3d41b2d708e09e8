"""Names cleaned of characters nobody sees, in the one place that does it."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from flows.invites import FlowError, add_organisation, create_staff_invite
from flows.names import clean_name
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import Invite, Organisation, Role


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Kees", "Kees"),
        # Cf: zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen
        ("K\u200bees", "Kees"),
        ("K\u200cees", "Kees"),
        ("K\u200dees", "Kees"),
        ("Ke\u2060es", "Kees"),
        ("\ufeffBea", "Bea"),
        ("Ma\u00adrie", "Marie"),
        # Cf: bidi controls that turn or isolate text
        ("\u202eSam", "Sam"),
        ("Sam\u202c", "Sam"),
        ("\u2066Olga\u2069", "Olga"),
        ("\u200eHans\u200f", "Hans"),
        ("\u061cAli", "Ali"),
        # Cc: controls, tabs and newlines
        ("Ol\x00ga", "Olga"),
        ("Ol\x07ga\x1b", "Olga"),
        ("Anne\nFleur", "Anne Fleur"),
        ("Anne\tFleur", "Anne Fleur"),
        ("Jan\r\n\r\nWillem", "Jan Willem"),
        # whitespace collapsed and trimmed, including no-break and ideographic spaces
        ("  Jan   Willem  ", "Jan Willem"),
        ("Jan\u00a0Willem", "Jan Willem"),
        ("Jan\u3000Willem", "Jan Willem"),
        # NFC: a decomposed é becomes the single character
        ("Jose\u0301", "Jos\u00e9"),
        ("Zoe\u0308", "Zo\u00eb"),
        # emoji stay, a family stays one emoji
        ("Kim 🌻", "Kim 🌻"),
        ("👨\u200d👩\u200d👧 Kim", "👨\u200d👩\u200d👧 Kim"),
        ("❤\ufe0f Sam", "❤\ufe0f Sam"),
        # letters of other scripts stay
        ("Ağrı", "Ağrı"),
        ("محمد", "محمد"),
        # nothing visible: nothing left
        ("\u200b\u202e\u2066", ""),
        ("   ", ""),
        ("", ""),
    ],
)
def test_clean_name(given: str, expected: str) -> None:
    assert clean_name(given, 64) == expected


def test_clean_name_cuts_to_the_length_without_a_trailing_space() -> None:
    assert clean_name("Anne Fleur", 5) == "Anne"
    assert clean_name("\u200bAnne-Fleur", 4) == "Anne"  # the hidden one does not count


def test_nothing_hidden_survives_any_character() -> None:
    everything = "".join(chr(c) for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF)
    cleaned = clean_name(everything, len(everything))
    hidden = {ch for ch in cleaned if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d"}
    assert hidden == set()


async def test_staff_and_organisation_names_are_cleaned(db: Database, clock: FakeClock) -> None:
    async with db.session() as session:
        await add_organisation(session, "Gezinshuizen\u200b  Zuid\u202e", clock.now())
        new = await create_staff_invite(
            session,
            organisation_name="Gezinshuizen Zuid",
            role=Role.BEHANDELAAR,
            name="\u2066Hans\u2069 de\tVries",
            now=clock.now(),
            settings=RouteSettings(),
        )
        with pytest.raises(FlowError):
            await add_organisation(session, "\u200b\u200b", clock.now())
        with pytest.raises(FlowError):
            await create_staff_invite(
                session,
                organisation_name="Gezinshuizen Zuid",
                role=Role.BEGELEIDER,
                name="\u202e",
                now=clock.now(),
                settings=RouteSettings(),
            )
    async with db.session() as session:
        organisation = await session.scalar(select(Organisation))
        invite = await session.scalar(select(Invite).where(Invite.id == new.invite.id))
    assert organisation is not None
    assert organisation.name == "Gezinshuizen Zuid"
    assert invite is not None
    assert invite.invitee_name == "Hans de Vries"
