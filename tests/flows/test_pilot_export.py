"""The pilot export for researchers (flows/pilot_export.py), on a seeded organisation full of
names, typed words and meeting places: none of them may leave in the zip."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import zipfile

from sqlalchemy import select, text, update

from bot.render import Renderer
from flows import pilot_export
from flows.plan import changes
from storage.db import Database
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    CheckinStatus,
    EndingReason,
    GoalSide,
    Intensity,
    MeasurementRound,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Organisation,
    Participant,
    Person,
    Phase,
    Placement,
    PlacementEnding,
    PlanEstimate,
    PlanReview,
    Reflection,
    Role,
    Rsvp,
    StaffMember,
    TelegramLink,
)
from tests.seed import seed

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
WEEK = re.compile(r"^\d{4}-W\d{2}$")
PSEUDONYM = re.compile(r"^(P|PL|C|R|G|M)-[0-9a-f]{10}$")
ID_COLUMNS = {"person", "placement", "checkin", "round", "goal", "meeting", "begeleider",
              "behandelaar"}  # fmt: skip
WORDING = pilot_export.question_wording(
    lambda template, context: Renderer().render("nl", template, context)
)


def files(data: bytes) -> dict[str, list[dict[str, str]]]:
    """Every CSV of the zip as rows of dicts, read with the csv module (as pandas would)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
            if name.endswith(".csv")
        }


def texts(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())


async def export(db: Database, organisation_id: int) -> pilot_export.Export:
    async with db.session() as session:
        return await pilot_export.build(session, organisation_id, WORDING)


async def organisation_of(db: Database, placement_id: int) -> int:
    async with db.session() as session:
        organisation = await session.scalar(
            select(Placement.organisation_id).where(Placement.id == placement_id)
        )
    assert organisation is not None
    return organisation


async def seed_marked(db: Database, *, first_user_id: int = 100_000) -> dict[str, object]:
    """Three placements; every name, alias and typed text is a marker no export may hold.

    Placement 0: both parents consent; placement 1: only the ouder; placement 2: nobody.
    """
    seeded = await seed(
        db, now=NOW, placements=3, weeks=4, patterns=("calm",), first_user_id=first_user_id,
        begeleider_user_id=first_user_id - 1,
    )  # fmt: skip
    placements = seeded.placements["calm"]
    markers: list[str] = []
    tag = f"X{first_user_id}"
    async with db.session() as session:
        people = {}
        for index, pid in enumerate(placements):
            placement = await session.get(Placement, pid)
            assert placement is not None
            placement.youth_name = f"Youth{tag}q{index}"
            placement.gezinshuis_name = f"Gezinshuis{tag}q{index}"
            markers += [placement.youth_name, placement.gezinshuis_name]
            for participant in await session.scalars(
                select(Participant).where(Participant.placement_id == pid)
            ):
                person = await session.get(Person, participant.person_id)
                assert person is not None
                person.first_name = f"Name{tag}q{index}{participant.role}"
                markers.append(person.first_name)
                people[(index, str(participant.role))] = person
        begeleider = await session.get(Person, seeded.begeleider_person_id)
        assert begeleider is not None
        begeleider.first_name = f"Coach{tag}"
        markers.append(begeleider.first_name)
        for key in ((0, "ouder"), (0, "gezinshuisouder"), (1, "ouder")):
            people[key].research_consent = True
        organisation = await session.scalar(
            select(Organisation).join(Placement).where(Placement.id == placements[0])
        )
        assert organisation is not None
        organisation.name = f"Org{tag}"
        markers.append(organisation.name)
        staff = await session.scalar(
            select(StaffMember).where(StaffMember.person_id == seeded.begeleider_person_id)
        )
        assert staff is not None
        await session.flush()
        for index, pid in enumerate(placements):
            ouder = people[(index, "ouder")]
            # Free text in the weekly check-in's open question.
            checkin = await session.scalar(
                select(Checkin)
                .where(Checkin.person_id == ouder.id)
                .order_by(Checkin.due_at.desc())
                .limit(1)
            )
            assert checkin is not None
            open_text = f"Openwords{tag}q{index}"
            session.add(
                Answer(
                    checkin_id=checkin.id, placement_id=pid, person_id=ouder.id,
                    role=Role.OUDER, question_id="open", text=open_text,
                    answered_at=checkin.due_at + dt.timedelta(minutes=9),
                )
            )  # fmt: skip
            # A typed goal and a suggested one, with a progress score on the typed one.
            typed = await changes.add_goal(
                session, placement_id=pid, phase=Phase.STABILISATIEFASE,
                side=GoalSide.OUDER, now=NOW,
                by_person_id=ouder.id, text=f"Goalwords{tag}q{index}",
            )  # fmt: skip
            await changes.add_goal(
                session, placement_id=pid, phase=Phase.STABILISATIEFASE,
                side=GoalSide.SAMEN, now=NOW,
                by_person_id=seeded.begeleider_person_id, suggestion="samen_praten",
            )  # fmt: skip
            session.add(
                Answer(
                    checkin_id=checkin.id, placement_id=pid, person_id=ouder.id,
                    role=Role.OUDER, question_id=f"doel:{typed.id}", value="4", score=4,
                    goal_id=typed.id, answered_at=checkin.due_at + dt.timedelta(minutes=7),
                )
            )  # fmt: skip
            # The questionnaire: one round, the ouder answered it.
            measurement = MeasurementRound(
                placement_id=pid, requested_by_person_id=seeded.begeleider_person_id,
                created_at=NOW - dt.timedelta(days=10), closes_at=NOW - dt.timedelta(days=3),
            )  # fmt: skip
            session.add(measurement)
            await session.flush()
            member = await session.scalar(
                select(Participant).where(Participant.person_id == ouder.id)
            )
            assert member is not None
            questionnaire = Checkin(
                participant_id=member.id, placement_id=pid, person_id=ouder.id,
                role=Role.OUDER, kind=CheckinKind.MEASUREMENT, period=f"round-{measurement.id}",
                phase=Phase.STABILISATIEFASE, questions=["dim_respect", "dim_vertrouwen"],
                status=CheckinStatus.ANSWERED, due_at=measurement.created_at,
                sent_at=measurement.created_at, closes_at=measurement.closes_at,
                round_id=measurement.id,
            )  # fmt: skip
            session.add(questionnaire)
            await session.flush()
            for question, score in (("dim_respect", 5), ("dim_vertrouwen", 2)):
                session.add(
                    Answer(
                        checkin_id=questionnaire.id, placement_id=pid, person_id=ouder.id,
                        role=Role.OUDER, question_id=question, value=str(score), score=score,
                        answered_at=measurement.created_at + dt.timedelta(hours=1),
                    )
                )  # fmt: skip
            # A meeting with a place, invitees who answered.
            place = f"Placewords{tag}q{index}"
            meeting = Meeting(
                organisation_id=organisation.id, placement_id=pid,
                type="begeleidingsgesprek_ouders", starts_at=NOW + dt.timedelta(days=3),
                location=place, status=MeetingStatus.PLANNED,
                planned_by_person_id=seeded.begeleider_person_id, created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            meeting.invitees = [
                MeetingInvitee(person_id=ouder.id, role=Role.OUDER, placement_id=pid,
                               rsvp=Rsvp.YES, rsvp_at=NOW),
                MeetingInvitee(person_id=seeded.begeleider_person_id, role=Role.BEGELEIDER,
                               placement_id=pid),
            ]  # fmt: skip
            session.add(meeting)
            # Notes, reflections: typed words everywhere.
            session.add_all(
                [
                    PlanEstimate(
                        placement_id=pid, version=1, scores={"contact": 3},
                        note=f"Estimatewords{tag}q{index}", intensity=Intensity.STANDARD,
                        created_by_person_id=seeded.begeleider_person_id, created_at=NOW,
                    ),
                    PlanReview(
                        placement_id=pid, recorded_at=NOW, note=f"Reviewwords{tag}q{index}",
                        recorded_by_person_id=seeded.begeleider_person_id, created_at=NOW,
                    ),
                    Reflection(
                        placement_id=pid, person_id=ouder.id, role=Role.OUDER, question="goed",
                        text=f"Reflectionwords{tag}q{index}", asked_at=NOW, answered_at=NOW,
                    ),
                ]
            )  # fmt: skip
            markers += [open_text, f"Goalwords{tag}q{index}", place,
                        f"Estimatewords{tag}q{index}", f"Reviewwords{tag}q{index}",
                        f"Reflectionwords{tag}q{index}"]  # fmt: skip
        # Placement 1 ended (a breakdown, one closing talk held).
        ended = await session.get(Placement, placements[1])
        assert ended is not None
        ended.phase, ended.closed_at = Phase.AFGESLOTEN, NOW
        session.add(
            PlacementEnding(
                placement_id=placements[1], reason=EndingReason.BREAKDOWN, planned=False,
                talks=["afsluitend_gesprek"], handover=True,
                closed_by_person_id=seeded.begeleider_person_id, closed_at=NOW,
            )
        )  # fmt: skip
        links = list(await session.scalars(select(TelegramLink.telegram_user_id)))
        database_ids = [str(pid) for pid in placements] + [str(p.id) for p in people.values()]
    return {
        "placements": placements,
        "markers": markers,
        "telegram_ids": [str(t) for t in links],
        "database_ids": database_ids,
        "people": people,
        "begeleider": seeded.begeleider_person_id,
    }


async def test_nothing_that_names_anyone_leaves_in_the_zip(db: Database) -> None:
    seeded = await seed_marked(db)
    placements = seeded["placements"]
    assert isinstance(placements, list)
    made = await export(db, await organisation_of(db, placements[0]))
    everything = texts(made.data)
    markers = seeded["markers"]
    assert isinstance(markers, list)
    assert len(markers) > 20
    for marker in markers:
        assert marker not in everything, marker
    for telegram_id in seeded["telegram_ids"]:  # type: ignore[attr-defined]
        assert telegram_id not in everything, telegram_id
    tables = files(made.data)
    database_ids = set(seeded["database_ids"])  # type: ignore[call-overload]
    for name, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                if column in ID_COLUMNS:
                    assert value == "" or PSEUDONYM.match(value), (name, column, value)
                    assert value not in database_ids
    # What is there: the consenting people's answers, as numbers and codes.
    weekly = tables["weekly_results.csv"]
    assert {row["side"] for row in weekly} == {"ouder", "gezinshuisouder"}
    assert {row["samenwerken"] for row in weekly} <= {"4", "5"}
    assert {row["contact"] for row in weekly} == {"gesproken"}
    assert sum(row["open_answered"] == "yes" for row in weekly) == 2  # the words are not there
    goals = tables["goals.csv"]
    assert sorted(row["suggestion"] for row in goals) == [
        "eigen doel", "eigen doel", "samen_praten", "samen_praten",
    ]  # fmt: skip
    progress = tables["goal_progress.csv"][0]
    assert progress["score"] == "4"
    assert progress["side"] == "ouder"
    assert len(tables["goal_progress.csv"]) == 2
    questionnaire = tables["questionnaire.csv"]
    assert [(r["dim_respect"], r["dim_vertrouwen"], r["dim_samen_oplossen"])
            for r in questionnaire] == [("5", "2", "")] * 2  # fmt: skip
    meetings = tables["meetings.csv"]
    assert [(m["invited"], m["yes"], m["no"]) for m in meetings] == [("2", "1", "0")] * 2
    [ending] = tables["endings.csv"]
    assert (ending["reason"], ending["planned"], ending["handover"], ending["talks_held"]) == (
        "breakdown", "no", "yes", "1",
    )  # fmt: skip
    assert ending["talk_afsluitend_gesprek"] == "yes"
    assert ending["talk_afrondend_gesprek_ouders"] == "no"
    assert made.placement_ids == sorted(placements[:2])


async def test_only_people_who_said_yes_to_research_and_their_placements(db: Database) -> None:
    seeded = await seed_marked(db)
    placements = seeded["placements"]
    people = seeded["people"]
    assert isinstance(placements, list)
    assert isinstance(people, dict)
    organisation = await organisation_of(db, placements[0])
    tables = files((await export(db, organisation)).data)
    async with db.session() as session:
        key = await pilot_export.pseudonym_key(session, organisation)

    def p(kind: str, number: int) -> str:
        return pilot_export.pseudonym(key, kind, number)

    included = {p("person", people[k].id) for k in ((0, "ouder"), (0, "gezinshuisouder"),
                                                    (1, "ouder"))}  # fmt: skip
    assert {row["person"] for row in tables["participants.csv"]} == included
    for name in ("weekly_results.csv", "questionnaire.csv", "goal_progress.csv"):
        assert {row["person"] for row in tables[name]} <= included, name
    # Kees of placement 1 said nothing: none of his weeks are there.
    kees = p("person", people[(1, "gezinshuisouder")].id)
    assert kees not in texts((await export(db, organisation)).data)
    # Placement 2 has nobody who said yes: no row of it anywhere.
    nobody = p("placement", placements[2])
    for name, rows in tables.items():
        assert all(row.get("placement") != nobody for row in rows), name
    assert {row["placement"] for row in tables["placements.csv"]} == {
        p("placement", placements[0]),
        p("placement", placements[1]),
    }
    # The begeleider did not say yes: her column is empty; once she does, her pseudonym.
    assert {row["begeleider"] for row in tables["placements.csv"]} == {""}
    async with db.session() as session:
        await session.execute(
            update(Person).where(Person.id == seeded["begeleider"]).values(research_consent=True)
        )
    again = files((await export(db, organisation)).data)
    begeleider = seeded["begeleider"]
    assert isinstance(begeleider, int)
    assert {row["begeleider"] for row in again["placements.csv"]} == {p("person", begeleider)}


async def test_pseudonyms_stay_the_same_and_differ_per_organisation(db: Database) -> None:
    first = await seed_marked(db)
    second = await seed_marked(db, first_user_id=200_000)
    ours = await organisation_of(db, first["placements"][0])  # type: ignore[index]
    theirs = await organisation_of(db, second["placements"][0])  # type: ignore[index]
    async with db.session() as session:
        assert (await session.get(Organisation, ours)).pseudonym_key is None  # type: ignore[union-attr]
    one, two = await export(db, ours), await export(db, theirs)
    assert files((await export(db, ours)).data) == files(one.data)  # the same, a second time
    async with db.session() as session:
        key_ours = await pilot_export.pseudonym_key(session, ours)
        key_theirs = await pilot_export.pseudonym_key(session, theirs)
        # Stored encrypted: the column's raw text is not the key.
        raw = await session.scalar(
            text("SELECT pseudonym_key FROM organisation WHERE id = :id"), {"id": ours}
        )
    assert key_ours != key_theirs
    assert len(key_ours) == 64
    assert raw
    assert key_ours not in raw
    assert key_ours not in texts(one.data)
    # The same row under another organisation's key gets another pseudonym.
    assert pilot_export.pseudonym(key_ours, "person", 5) != pilot_export.pseudonym(
        key_theirs, "person", 5
    )
    people_one = {row["person"] for row in files(one.data)["participants.csv"]}
    people_two = {row["person"] for row in files(two.data)["participants.csv"]}
    assert people_one
    assert people_two
    assert not people_one & people_two


async def test_dates_are_weeks_and_the_codebook_names_every_column(db: Database) -> None:
    seeded = await seed_marked(db)
    made = await export(db, await organisation_of(db, seeded["placements"][0]))  # type: ignore[index]
    tables = files(made.data)
    codebook = tables.pop("codebook.csv")
    described = {(row["file"], row["column"]) for row in codebook}
    with zipfile.ZipFile(io.BytesIO(made.data)) as archive:
        headers = {
            (name, column)
            for name in archive.namelist()
            if name.endswith(".csv") and name != "codebook.csv"
            for column in next(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))
        }
        assert "README.txt" in archive.namelist()
        assert "pandas.read_csv" in archive.read("README.txt").decode("utf-8")
    assert described == headers
    for row in codebook:
        if row["question_id"]:
            assert row["question_nl"], row  # the Dutch wording of the question asked
    week_columns = {(r["file"], r["column"]) for r in codebook if r["type"] == "week"}
    assert len(week_columns) >= 10
    seen = 0
    for name, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                if (name, column) in week_columns and value:
                    assert WEEK.match(value), (name, column, value)
                    seen += 1
                assert not re.search(r"\d{4}-\d{2}-\d{2}", value), (name, column, value)
    assert seen > 20


async def test_two_hundred_placements_in_one_export(db: Database) -> None:
    seeded = await seed(db, now=NOW, placements=200, weeks=2, patterns=("calm",))
    async with db.session() as session:
        await session.execute(update(Person).values(research_consent=True))
    placements = seeded.placements["calm"]
    made = await export(db, await organisation_of(db, placements[0]))
    tables = files(made.data)
    assert len(tables["placements.csv"]) == 200
    assert len(tables["weekly_results.csv"]) == 200 * 2 * 2
    assert made.placement_ids == sorted(placements)


async def test_six_first_exports_at_once_share_one_key(db: Database) -> None:
    """Six coordinators press at once before there is a key: one key, the same pseudonyms."""
    seeded = await seed(db, now=NOW, placements=3, weeks=1, patterns=("calm",))
    async with db.session() as session:
        await session.execute(update(Person).values(research_consent=True))
    organisation = await organisation_of(db, seeded.placements["calm"][0])
    made = await asyncio.gather(*(export(db, organisation) for _ in range(6)))
    assert all(files(m.data) == files(made[0].data) for m in made)
    async with db.session() as session:
        key = await pilot_export.pseudonym_key(session, organisation)
    pid = seeded.placements["calm"][0]
    assert pilot_export.pseudonym(key, "placement", pid) in texts(made[0].data)


async def test_an_erased_person_is_gone_from_the_next_export(db: Database) -> None:
    seeded = await seed_marked(db)
    placements, people = seeded["placements"], seeded["people"]
    assert isinstance(placements, list)
    assert isinstance(people, dict)
    organisation = await organisation_of(db, placements[0])
    before = files((await export(db, organisation)).data)
    async with db.session() as session:
        key = await pilot_export.pseudonym_key(session, organisation)
        # The erasure deletes the person; her participation, check-ins and answers go with her.
        erased = await session.get(Person, people[(1, "ouder")].id)
        await session.delete(erased)
    after = files((await export(db, organisation)).data)
    gone = pilot_export.pseudonym(key, "person", people[(1, "ouder")].id)
    assert gone in {row["person"] for row in before["participants.csv"]}
    for name, rows in after.items():
        assert all(row.get("person") != gone for row in rows), name
    # Her placement had nobody else who said yes: it is gone too; the others keep their names.
    assert {row["placement"] for row in after["placements.csv"]} == {
        pilot_export.pseudonym(key, "placement", placements[0])
    }
    stay = {row["person"] for row in before["participants.csv"]} - {gone}
    assert {row["person"] for row in after["participants.csv"]} == stay
