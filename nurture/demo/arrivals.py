"""People who find the demo's company during the simulated weeks: each fills in one of the
website's forms (an ebook download, a webinar sign-up, the newsletter, "contact sales" or a
demo request), which creates the lead as ``POST /api/leads`` does and posts the form's event
to the events API. The people are ``data/arrivals.csv``; which day of four weeks each
arrives is part of the data, the hour is the seeded model's.

No database here: the file's rows, when each person arrives, and what their form sends.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The event each form posts, and the name of the form (the scoring model's `form` property:
# "contact-sales" is a hand-raiser, the newsletter and webinar sign-ups are "other forms").
FORM_EVENTS = {
    "ebook": ("content.downloaded", "revenue-benchmarks"),
    "webinar": ("form.submitted", "webinar-signup"),
    "newsletter": ("form.submitted", "newsletter"),
    "contact-sales": ("form.submitted", "contact-sales"),
    "demo-request": ("demo.requested", "demo-request"),
}
# The answers some forms ask for, kept as the lead's attributes (the ICP grades BANT).
_ATTRIBUTES = ("interest", "budget", "authority", "need", "timing")
_COMPANY = ("company", "industry", "employees", "annual_revenue", "country", "timezone")
# "end": the person arrives within the last hour, so the demo ends with fresh handoffs
# whose response deadline is still ahead.
LAST_HOUR = "end"
# The days of the file are days of four weeks.
PLANNED = timedelta(weeks=4)


@dataclass(frozen=True)
class Arrival:
    """One person of ``arrivals.csv``: when they come, by which form, and who they are."""

    day: str
    form: str
    email: str
    fields: dict[str, str]

    @property
    def interest(self) -> str:
        """The simulated person's intent: high, medium or low (drives their reactions)."""
        return self.fields.get("interest") or "low"


def read_arrivals(path: Path) -> list[Arrival]:
    """The rows of ``path``; a form or day the simulation does not know is an error."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    arrivals = []
    for line, row in enumerate(rows, start=2):
        day, form = row.pop("day").strip(), row.pop("form").strip()
        if form not in FORM_EVENTS or not (day.isdigit() or day == LAST_HOUR):
            raise ValueError(f"{path.name}:{line}: unknown form {form!r} or day {day!r}")
        fields = {key: value.strip() for key, value in row.items() if value and value.strip()}
        arrivals.append(Arrival(day=day, form=form, email=fields["email"], fields=fields))
    return arrivals


def arrival_time(arrival: Arrival, start: datetime, end: datetime, rng: random.Random) -> datetime:
    """When ``arrival`` fills in the form: on its day of four weeks (scaled to the weeks
    simulated), at an office hour where the person is (08:00 to 18:00), or in the last
    hour for ``end``."""
    if arrival.day == LAST_HOUR:
        return end - timedelta(minutes=rng.randint(5, 50))
    zone = ZoneInfo(arrival.fields.get("timezone") or "UTC")
    offset = timedelta(days=int(arrival.day)) * ((end - start) / PLANNED)
    local_day = (start + offset).astimezone(zone).date()
    local = datetime.combine(local_day, time(rng.randint(8, 17), rng.randint(0, 59)), zone)
    at = local.astimezone(start.tzinfo)
    # Never before the simulation starts, nor after it ends.
    return min(max(at, start + timedelta(minutes=30)), end - timedelta(minutes=30))


def lead_data(arrival: Arrival, at: datetime) -> dict[str, Any]:
    """What the form sends to ``POST /api/leads``: the person, their company, their consent
    (the form's opt-in box, ticked ``at``) and their answers as attributes."""
    fields = arrival.fields
    data: dict[str, Any] = {
        "email": arrival.email,
        "first_name": fields.get("first_name"),
        "last_name": fields.get("last_name"),
        "title": fields.get("title"),
        "source": f"form:{arrival.form}",
        "lawful_basis": "consent",
        "consent_status": "granted",
        "consent_at": at.isoformat(),
        "consent_source": f"form:{arrival.form} opt-in checkbox",
    }
    for key in _COMPANY:
        if key in fields:
            data[key] = fields[key]
    data["attributes"] = {key: fields[key] for key in _ATTRIBUTES if key in fields}
    return {key: value for key, value in data.items() if value is not None}
