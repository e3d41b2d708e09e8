"""Places, not addresses: tell whether a typed meeting place is a street address.

The privacy rules of the route keep addresses out of Telegram; a meeting's place is a short
description ("op kantoor", "zaal 3"), checked here before it is stored.
"""

from __future__ import annotations

import re

# Places, not addresses: messages on Telegram must not carry an address (domain privacy rules).
# A Dutch street name ends in (or is) one of these words: "Hoofdstraat", "Stationsplein",
# "Laan van Meerdervoort", "Weg naar Rhenen", "Oudezijds Voorburgwal". Followed by a house
# number it is an address. Street names without such a word ("Rokin 12", "Spui 21", "Weena 10")
# cannot be told from "zaal 3" or "kamer 12" without a street register; those pass.
STREET_WORDS = (
    "straat|laan|weg|plein|singel|gracht|wal|kade|dijk|dreef|hof|pad|steeg|markt|baan|haven"
    "|kanaal|vaart|vliet|plantsoen|park|allee|boulevard|brink|poort"
)  # "straatweg", "burgwal" end in "weg" and "wal"
_ADDRESS = re.compile(
    # The street word, alone or at the end of a compound (not followed by another letter) …
    rf"(?i:[^\W\d_]*(?:{STREET_WORDS}))(?![^\W\d_])"
    # … then at most three more words of the name: particles ("van", "aan de", "naar") or
    # capitalised words ("Meerdervoort", "Oost"); never a number …
    r"(?:\s+(?:(?i:van|de|der|den|het|'t|aan|op|naar|bij|in|ter|ten|te|tot|over|achter|voor"
    r"|onder|en|zuid|noord|oost|west)|[A-Z][^\W\d_]*(?:-[^\W\d_]+)*)){0,3}"
    # … then a house number: "12", "12a", "12 A", "12-2", "12 bis", "nr. 12" (not a time of
    # day: "Plein 14:00", "Markt 10 uur").
    r",?\s*(?i:nr\.?\s*|nummer\s+|no\.?\s*)?\d{1,5}(?!\d)(?![.:]\d)(?!\s*(?i:uur\b|u\b))"
)
_POSTCODE = re.compile(r"\b[1-9][0-9]{3}\s?([A-Za-z]{2})\b")
# Two-letter words after a four-digit number are usually not a postcode ("1990 en 1991").
_NOT_POSTCODE_LETTERS = {"en", "in", "op", "om", "of", "te", "de", "je", "ik", "we", "is", "na"}
_MAILBOX = re.compile(r"(?i)\b(?:postbus|antwoordnummer)\s*\d")


def is_address(place: str) -> bool:
    """Tell whether a typed meeting place contains a street address, postcode or mailbox."""
    if _ADDRESS.search(place) or _MAILBOX.search(place):
        return True
    return any(
        match[1].lower() not in _NOT_POSTCODE_LETTERS for match in _POSTCODE.finditer(place)
    )
