"""/instellingen: when the weekly questions come (and a begeleider's weekly digest), the time
zone, and pausing until a date."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from flows import guards
from flows.buttons import (
    RESEARCH,
    SET_DAY,
    SET_DIGEST_DAY,
    SET_DIGEST_TIME,
    SET_PAUSE,
    SET_TIME,
    SET_ZONE,
    SETTING,
)
from flows.callbacks import small_number
from flows.checkins import is_paused
from flows.dates import parse_date
from flows.people import Caller, Me, clear_state, set_state, tell_begeleiders
from flows.replies import Button, Outcome, Say
from flows.schedule import at_local, checkin_moment, digest_moment, local_date
from flows.settings import CheckinRules
from storage.models import Role

FLOW = "settings"
TIME_CHOICES = ("08:00", "12:00", "17:00", "18:00", "19:00", "20:00", "21:00")
ZONE_CHOICES = (
    "Europe/Amsterdam", "Europe/Brussels", "Europe/London", "America/Curacao",
    "America/Paramaribo",
)  # fmt: skip
DIGEST_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday: the digest is for the working week
DIGEST_TIMES = ("08:00", "08:30", "09:00", "12:00", "17:00")  # outside quiet hours
PAUSE_DAYS = (7, 14, 30)
MAX_PAUSE = dt.timedelta(days=366)
_TIME = re.compile(r"(\d{1,2})(?:[:.u](\d{2}))?(?:\s*uur)?")


def menu_say(me: Me, now: dt.datetime, *, edit: bool = False) -> Say:
    person = me.person
    roles = [p.role for p in me.participations]
    weekday, at = (None, None)
    if roles:
        weekday, at = checkin_moment(roles[0], person.checkin_weekday, person.checkin_time)
    paused = is_paused(person, now)
    until = (
        local_date(person.paused_until, me.link.time_zone)
        if paused and person.paused_until is not None
        else None
    )
    begeleider = _is_begeleider(me)
    digest_weekday, digest_at = digest_moment(person.digest_weekday, person.digest_time)
    rows: list[tuple[Button, ...]] = []
    if roles:
        rows.append(
            (
                SETTING.button("set_day", what="d"),
                SETTING.button("set_time", what="t"),
            )
        )
    if begeleider:
        rows.append(
            (
                SETTING.button("set_digest_day", what="od"),
                SETTING.button("set_digest_time", what="ot"),
            )
        )
    rows.append((SETTING.button("set_zone", what="z"),))
    if roles:
        rows.append(
            (SETTING.button("resume_messages", what="r"),)
            if paused
            else (SETTING.button("pause_until", what="p"),)
        )
    # The optional research agreement (flows/research.py): one switch, off unless she said yes.
    research = person.research_consent
    label = "research_off" if research else "research_on"
    rows.append((RESEARCH.button(label, where="s", agreed=not research),))
    return Say(
        "settings/menu",
        {
            "weekday": weekday,
            "time": at,
            "zone": me.link.time_zone,
            "paused": paused,
            "until": until,
            "participant": bool(roles),
            "begeleider": begeleider,
            "digest_weekday": digest_weekday,
            "digest_time": digest_at,
            "research": research,
        },
        buttons=tuple(rows),
        edit=edit,
    )


async def menu(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """Show the person's settings with buttons to change them."""
    me = await guards.who(session, caller)
    if isinstance(me, Outcome):
        return me
    return Outcome(me.language).add(menu_say(me, now))


async def press(
    session: AsyncSession,
    caller: Caller,
    what: str,
    value: str | None,
    now: dt.datetime,
    rules: CheckinRules,
) -> Outcome:
    """Handle a settings button: open a choice, or store the chosen value."""
    me = await guards.who(session, caller, pressed=True)
    if isinstance(me, Outcome):
        return me
    out = Outcome(me.language)
    user_id = me.link.telegram_user_id
    if what == "d" and value is None:
        buttons = tuple((SET_DAY.button(f"weekday_{d}", day=d),) for d in range(7))
        return out.add(Say("settings/choose_day", buttons=buttons, edit=True))
    number = small_number(value)  # None unless plain ASCII digits: forged data is refused
    if what == "d" and number is not None and number <= 6:
        me.person.checkin_weekday = number
        return _saved(out, me, now)
    if what == "t" and value is None:
        await set_state(session, user_id, FLOW, "time", {}, now)
        buttons = tuple(
            (SET_TIME.button("clock", {"time": t}, time=t.replace(":", ".")),)
            for t in TIME_CHOICES
        )
        return out.add(Say("settings/choose_time", _quiet(rules), buttons=buttons, edit=True))
    if what == "t" and value is not None:
        chosen = _read_time(value)
        if chosen is None or not _allowed_time(chosen, rules):
            return out.say(guards.EXPIRED)
        return await _store_time(session, me, chosen, now, out)
    if what in ("od", "ot") and not _is_begeleider(me):
        return out.say(guards.EXPIRED)
    if what == "od" and value is None:
        buttons = tuple((SET_DIGEST_DAY.button(f"weekday_{d}", day=d),) for d in DIGEST_DAYS)
        return out.add(Say("settings/choose_digest_day", buttons=buttons, edit=True))
    if what == "od" and number is not None and number in DIGEST_DAYS:
        me.person.digest_weekday = number
        return _saved(out, me, now)
    if what == "ot" and value is None:
        buttons = tuple(
            (SET_DIGEST_TIME.button("clock", {"time": t}, time=t.replace(":", ".")),)
            for t in DIGEST_TIMES
        )
        return out.add(Say("settings/choose_digest_time", buttons=buttons, edit=True))
    if what == "ot" and value is not None:
        chosen = _read_time(value)
        if chosen is None or f"{chosen:%H:%M}" not in DIGEST_TIMES:
            return out.say(guards.EXPIRED)
        me.person.digest_time = chosen
        return _saved(out, me, now)
    if what == "z" and value is None:
        await set_state(session, user_id, FLOW, "zone", {}, now)
        buttons = tuple(
            (SET_ZONE.button("zone", {"zone": z}, zone=i),) for i, z in enumerate(ZONE_CHOICES)
        )
        return out.add(Say("settings/choose_zone", buttons=buttons, edit=True))
    if what == "z" and number is not None and number < len(ZONE_CHOICES):
        await clear_state(session, user_id)
        me.link.time_zone = ZONE_CHOICES[number]
        return _saved(out, me, now)
    if what == "p" and value is None:
        await set_state(session, user_id, FLOW, "pause_date", {}, now)
        buttons = (
            *((SET_PAUSE.button("pause_days", {"days": d}, days=d),) for d in PAUSE_DAYS),
            (SET_PAUSE.button("pause_forever", days=0),),
        )
        return out.add(Say("settings/choose_pause", buttons=buttons, edit=True))
    if what == "p" and number is not None:
        days = number
        if days not in (0, *PAUSE_DAYS):
            return out.say(guards.EXPIRED)
        until = None
        if days:
            day = local_date(now, me.link.time_zone) + dt.timedelta(days=days)
            until = at_local(day, dt.time(8, 0), me.link.time_zone)
        return await _pause(session, me, until, now, out)
    if what == "r":
        changed = me.person.paused
        me.person.paused, me.person.paused_until = False, None
        await clear_state(session, user_id)
        if changed:  # a second press must not tell the begeleider twice
            await tell_begeleiders(session, me, "account/resumed_notice", out)
        return _saved(out, me, now)
    return out.say(guards.EXPIRED)


async def typed(
    session: AsyncSession, me: Me, step: str, text: str, now: dt.datetime, rules: CheckinRules
) -> Outcome:
    """Read a typed time, time zone or pause date; re-ask kindly when it is not clear."""
    out = Outcome(me.language)
    value = " ".join(text.split())
    if step == "time":
        chosen = _read_time(value)
        if chosen is None or not _allowed_time(chosen, rules):
            return out.say("settings/bad_time", **_quiet(rules))
        return await _store_time(session, me, chosen, now, out)
    if step == "zone":
        zone = _read_zone(value)
        if zone is None:
            return out.say("settings/bad_zone")
        await clear_state(session, me.link.telegram_user_id)
        me.link.time_zone = zone
        return _saved(out, me, now, edit=False)
    if step == "pause_date":
        today = local_date(now, me.link.time_zone)
        day = parse_date(value, today)
        if day is None or not today < day <= today + MAX_PAUSE:
            return out.say("settings/bad_pause_date", today=today)
        return await _pause(
            session, me, at_local(day, dt.time(8, 0), me.link.time_zone), now, out, edit=False
        )
    await clear_state(session, me.link.telegram_user_id)
    return out.say("common/nothing_asked")


async def _store_time(
    session: AsyncSession, me: Me, chosen: dt.time, now: dt.datetime, out: Outcome
) -> Outcome:
    await clear_state(session, me.link.telegram_user_id)
    me.person.checkin_time = chosen
    return _saved(out, me, now)


async def _pause(
    session: AsyncSession,
    me: Me,
    until: dt.datetime | None,
    now: dt.datetime,
    out: Outcome,
    *,
    edit: bool = True,
) -> Outcome:
    await clear_state(session, me.link.telegram_user_id)
    changed = not me.person.paused or me.person.paused_until != until
    me.person.paused, me.person.paused_until = True, until
    until_day = local_date(until, me.link.time_zone) if until else None
    if changed:  # a second press must not tell the begeleider twice
        await tell_begeleiders(session, me, "account/paused_notice", out, until=until_day)
    return _saved(out, me, now, edit=edit)


def _is_begeleider(me: Me) -> bool:
    return bool(me.staff_as(Role.BEGELEIDER))


def _saved(out: Outcome, me: Me, now: dt.datetime, *, edit: bool = True) -> Outcome:
    out.say("settings/saved")
    return out.add(menu_say(me, now))


def _read_time(text: str) -> dt.time | None:
    match = _TIME.fullmatch(text.strip().lower())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def _allowed_time(at: dt.time, rules: CheckinRules) -> bool:
    return not rules.quiet.contains(at)


def _quiet(rules: CheckinRules) -> dict[str, object]:
    return {"quiet_start": rules.quiet.start, "quiet_end": rules.quiet.end}


def _read_zone(text: str) -> str | None:
    """An IANA zone name, matched case-insensitively ('europe/amsterdam' is fine)."""
    wanted = text.strip().replace(" ", "_")
    if not wanted or "/" not in wanted:
        return None
    for zone in available_timezones():
        if zone.lower() == wanted.lower():
            try:
                ZoneInfo(zone)
            except ZoneInfoNotFoundError:
                return None
            return zone
    return None
