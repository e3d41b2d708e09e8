"""Meeting places: Dutch street addresses, postcodes and mailboxes are refused; places pass."""

from __future__ import annotations

import pytest

from flows.meetings import is_address

# Real Dutch address shapes: street word (compound or separate), house number forms, postcodes.
ADDRESSES = [
    "Hoofdstraat 12 Utrecht",
    "Kerkstraat 5",
    "Stationsplein 1",
    "Laan van Meerdervoort 50",
    "Weg naar Rhenen 3",
    "Hoofdstraat12",
    "Oudegracht 231a",
    "Herengracht 12 bis",
    "Maliebaan 50 A",
    "Oudezijds Voorburgwal 12-2",
    "'s-Gravendijkwal 5",
    "Prins Hendrikkade 108",
    "Coolsingel 40, Rotterdam",
    "Zeedijk 1",
    "Grote Markt 1",
    "Binnenhof 1",
    "Jaagpad 4",
    "Kerksteeg 2",
    "Leuvehaven 1",
    "Amsterdamsestraatweg 120",
    "Oudegracht aan de Werf 120",
    "Dreef 5",
    "Rijnkade nr. 7",
    "Kerkstraat nummer 9",
    "3511 AB Utrecht",
    "3511AB",
    "bij ons, 1234 ab",
    "Postbus 12",
    "postbus 4050, Den Haag",
    "Antwoordnummer 123",
    "Amstelveenseweg 500 (2e verdieping)",
    # Hard one: "Plein 5" is a real address shape (Den Haag has a square called Plein with
    # house numbers). Refused; "Koffiehuis Plein" without the number passes.
    "Koffiehuis Plein 5",
]

# Places that name no address: a building, a room, a way to meet, a time.
PLACES = [
    "Buurthuis De Linde",
    "kantoor Zuid",
    "bij de gezinshuisouders thuis",
    "online (Teams)",
    "Stadhuis",
    "zaal 3",
    "kamer 12",
    "De Stationsrestauratie",
    "Het Wapen van Utrecht",
    "Koffiehuis Plein",
    "Wijkcentrum De Hofstede, kamer 2",
    "school, lokaal 14",
    "Sportpark De Toekomst veld 3",
    "bij de markt om 3 uur",
    "kamer 1012 en 1014",
    "videobellen via Teams",
    "Eetcafé De Markt",
    "Gemeentehuis, zaal 2",
    "De Plein, om 14:00",  # a time after a street word is not a house number
]


@pytest.mark.parametrize("place", ADDRESSES)
def test_addresses_are_recognised(place: str) -> None:
    assert is_address(place)


@pytest.mark.parametrize("place", PLACES)
def test_places_without_an_address_pass(place: str) -> None:
    assert not is_address(place)
