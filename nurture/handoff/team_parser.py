"""Reading the sales team file: YAML text in, a :class:`Team` out, and every problem found on
the way with its file and line (``FILE:LINE: message``), never stopping at the first.

Built like the scoring parser: ``nurture.files.yaml_lines`` keeps line numbers (and reads
``09:00``, ``NO`` and dates as text), and the generic checks of ``nurture.files.parser.Parser``
(unknown fields with "did you mean", text, numbers, durations) are reused by subclassing.
The grammar is layered: ``nurture.handoff.team_fields`` reads the small field kinds every
section uses, ``nurture.handoff.team_assignment`` the assignment rules, and this module the
file's own fields and its other sections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.files.parser import MAX_NAME
from nurture.files.problems import Problem, ProblemsError, kind_name
from nurture.files.yaml_file import FileLoad, load_yaml_text, read_file
from nurture.files.yaml_lines import line_of, own_line
from nurture.handoff.team import (
    REJECT_STAGES,
    AssignmentRule,
    Contact,
    RejectReason,
    Rep,
    Segment,
    Team,
)
from nurture.handoff.team_assignment import AssignmentParser
from nurture.handoff.team_fields import parse_working_hours

TOP_FIELDS = (
    "name",
    "description",
    "manager_email",
    "contact",
    "currency",
    "link_expiry",
    "regions",
    "segments",
    "reps",
    "assignment",
    "reject_reasons",
)
REP_FIELDS = (
    "name",
    "email",
    "title",
    "phone",
    "timezone",
    "working_hours",
    "territories",
    "segments",
    "capacity",
    "out_of_office",
    "manager",
    "active",
)
SEGMENT_FIELDS = ("id", "min_employees", "max_employees", "description")
REASON_FIELDS = ("id", "label", "stage")
CONTACT_FIELDS = ("name", "email", "phone")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# Sensible defaults so a small team file stays small.
DEFAULT_REASONS = (
    RejectReason("not-a-fit", "Not a fit for our product"),
    RejectReason("no-budget", "No budget"),
    RejectReason("wrong-contact", "Wrong contact (not involved in buying)"),
    RejectReason("bad-timing", "Bad timing (not buying now)"),
    RejectReason("already-customer", "Already a customer", "disqualified"),
    RejectReason("duplicate", "Duplicate of a lead sales already works", "disqualified"),
)
MAX_REPS = 1000


class TeamError(ProblemsError):
    """Raised by :func:`parse_team_data` when the data is not a valid team file."""


@dataclass(frozen=True)
class TeamLoad(FileLoad[Team]):
    """What loading one team file gave: the team when valid, and every problem."""

    @property
    def team(self) -> Team | None:
        """The team (``value``) when the file is valid."""
        return self.value


def load_team_file(path: str | Path) -> TeamLoad:
    """Read and parse one team file; an unreadable file is reported as a problem."""
    return read_file(path, load_team_text, TeamLoad)


def load_team_text(text: str, path: str | Path = "<team>") -> TeamLoad:
    """Parse team YAML ``text`` (``path`` names it in problems)."""
    name = str(path)

    def build(data: Mapping[Any, Any], digest: str) -> tuple[Team | None, list[Problem]]:
        parser = TeamParser(name)
        return parser.team(data, source_path=name, checksum=digest), parser.problems

    return load_yaml_text(
        text, name, "a team file must be a mapping (name, reps, ...)", build, TeamLoad
    )


def parse_team_data(
    data: Mapping[str, Any], source_path: str | None = None, *, checksum: str = ""
) -> Team:
    """Build a team from plain data (a stored version's spec). Raises TeamError."""
    parser = TeamParser(source_path or "<spec>")
    if not isinstance(data, Mapping):
        raise TeamError([Problem(parser.path, 0, "a team spec must be a mapping")])
    team = parser.team(data, source_path=source_path, checksum=checksum)
    if parser.problems or team is None:
        raise TeamError(parser.problems)
    return team


class TeamParser(AssignmentParser):
    """Reads a whole team file: its own fields, regions, segments, reps and reject reasons."""

    def team(
        self, data: Mapping[Any, Any], *, source_path: str | None, checksum: str
    ) -> Team | None:
        """The whole team, or ``None`` when any problem was found."""
        line = own_line(data, 0)
        self.fields(data, TOP_FIELDS, line)
        name = None
        if self.required(data, "name", line, "the team file"):
            name = self.text(data["name"], line_of(data, "name", line), "name", max_length=MAX_NAME)
        description = self.optional_text(data, "description", line) or ""
        manager = None
        if self.required(data, "manager_email", line, "the team file"):
            manager = self.email(
                data["manager_email"], line_of(data, "manager_email", line), "manager_email"
            )
        contact = None
        if self.required(data, "contact", line, "the team file"):
            contact = self.contact(data["contact"], line_of(data, "contact", line))
        currency = "USD"
        if data.get("currency") is not None:
            currency_line = line_of(data, "currency", line)
            text = self.text(data["currency"], currency_line, "currency")
            if text is not None and not _CURRENCY_RE.match(text.upper()):
                self.error(
                    currency_line, f"currency {text!r} must be an ISO 4217 code like USD or EUR"
                )
            currency = (text or "USD").upper()
        link_expiry = timedelta(days=14)
        if data.get("link_expiry") is not None:
            link_expiry = (
                self.duration(
                    data["link_expiry"], line_of(data, "link_expiry", line), "link_expiry"
                )
                or link_expiry
            )
        regions = self.regions(data.get("regions"), line_of(data, "regions", line))
        segments = self.segments(data.get("segments"), line_of(data, "segments", line))
        segment_ids = {s.id for s in segments}
        reps: tuple[Rep, ...] = ()
        if self.required(data, "reps", line, "the team file"):
            reps = self.reps(data["reps"], line_of(data, "reps", line), regions, segment_ids)
        rules: tuple[AssignmentRule, ...] = ()
        fallback = "round-robin"
        if data.get("assignment") is not None:
            rules, fallback = self.assignment(
                data["assignment"],
                line_of(data, "assignment", line),
                regions,
                segment_ids,
                {rep.email for rep in reps},
            )
        reasons: tuple[RejectReason, ...] = DEFAULT_REASONS
        if data.get("reject_reasons") is not None:
            reasons = self.reasons(data["reject_reasons"], line_of(data, "reject_reasons", line))
        if name is None or manager is None or contact is None or self.problems:
            return None
        return Team(
            name=name,
            description=description,
            manager_email=manager,
            contact=contact,
            reps=reps,
            reject_reasons=reasons,
            regions=regions,
            segments=segments,
            rules=rules,
            fallback=fallback,
            currency=currency,
            link_expiry=link_expiry,
            checksum=checksum,
            source_path=source_path,
        )

    def contact(self, value: Any, line: int) -> Contact | None:
        """``contact``: who the auto-reply names when no rep is assigned yet."""
        spec = self.mapping(value, line, "contact")
        if spec is None:
            return None
        self.fields(spec, CONTACT_FIELDS, line)
        name = email = None
        if self.required(spec, "name", line, "contact"):
            name = self.text(spec["name"], line_of(spec, "name", line), "contact.name")
        if self.required(spec, "email", line, "contact"):
            email = self.email(spec["email"], line_of(spec, "email", line), "contact.email")
        phone = self.optional_text(spec, "phone", line)
        if name is None or email is None:
            return None
        return Contact(name=name, email=email, phone=phone)

    # -------------------------------------------------------- sections

    def regions(self, value: Any, line: int) -> dict[str, frozenset[str]]:
        """``regions``: names for groups of countries, usable wherever a country is."""
        if value is None:
            return {}
        spec = self.mapping(value, line, "regions")
        if spec is None:
            return {}
        regions: dict[str, frozenset[str]] = {}
        for raw, countries in spec.items():
            item_line = line_of(spec, raw, line)
            name = self.key(raw, item_line, "region name")
            if name is None:
                continue
            parsed = self.countries_or_regions(countries, item_line, f"region {name}", regions)
            if parsed is not None:
                regions[name] = parsed[1]
        return regions

    def segments(self, value: Any, line: int) -> tuple[Segment, ...]:
        """``segments``: company-size bands by number of employees."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(own_line(value, line), f"segments must be a list, not {kind_name(value)}")
            return ()
        found: list[Segment] = []
        for index, item in enumerate(value):
            item_line = line_of(value, index, line)
            spec = self.mapping(item, item_line, "a segment")
            if spec is None:
                continue
            item_line = own_line(spec, item_line)
            self.fields(spec, SEGMENT_FIELDS, item_line)
            segment_id = None
            if self.required(spec, "id", item_line, "the segment"):
                segment_id = self.key(spec["id"], line_of(spec, "id", item_line), "segment id")
            bounds: dict[str, int | None] = {}
            for key in ("min_employees", "max_employees"):
                if spec.get(key) is None:
                    bounds[key] = None
                    continue
                number = self.number(spec[key], line_of(spec, key, item_line), key)
                if number is not None and (number < 0 or number != int(number)):
                    self.error(line_of(spec, key, item_line), f"{key} must be a whole number ≥ 0")
                    number = None
                bounds[key] = None if number is None else int(number)
            low, high = bounds["min_employees"], bounds["max_employees"]
            if low is not None and high is not None and high < low:
                self.error(item_line, f"max_employees ({high}) is below min_employees ({low})")
            if segment_id is None:
                continue
            if any(s.id == segment_id for s in found):
                self.error(item_line, f"duplicate segment id {segment_id!r}")
                continue
            found.append(
                Segment(
                    segment_id,
                    low,
                    high,
                    self.optional_text(spec, "description", item_line) or "",
                    item_line,
                )
            )
        return tuple(found)

    def reps(
        self, value: Any, line: int, regions: Mapping[str, frozenset[str]], segments: set[str]
    ) -> tuple[Rep, ...]:
        """``reps``: the salespeople, each email once."""
        if not isinstance(value, list) or not value:
            shown = "an empty list" if isinstance(value, list) else kind_name(value)
            self.error(own_line(value, line), f"reps must be a list of salespeople, not {shown}")
            return ()
        if len(value) > MAX_REPS:
            self.error(line, f"at most {MAX_REPS} reps, got {len(value)}")
            return ()
        reps: list[Rep] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            rep = self.rep(item, line_of(value, index, line), regions, segments)
            if rep is None:
                continue
            if rep.email in seen:
                self.error(rep.line, f"duplicate rep {rep.email} (first on line {seen[rep.email]})")
                continue
            seen[rep.email] = rep.line
            reps.append(rep)
        return tuple(reps)

    def rep(
        self, value: Any, line: int, regions: Mapping[str, frozenset[str]], segments: set[str]
    ) -> Rep | None:
        """One rep: who they are, when they work, and which leads they take."""
        spec = self.mapping(value, line, "a rep")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, REP_FIELDS, line)
        name = email = hours = None
        if self.required(spec, "name", line, "the rep"):
            name = self.text(spec["name"], line_of(spec, "name", line), "name", max_length=MAX_NAME)
        if self.required(spec, "email", line, f"rep {name or '?'}"):
            email = self.email(spec["email"], line_of(spec, "email", line), "email")
        timezone = "UTC"
        if self.required(spec, "timezone", line, f"rep {name or '?'}"):
            zone_line = line_of(spec, "timezone", line)
            text = self.text(spec["timezone"], zone_line, "timezone")
            if text is not None:
                try:
                    ZoneInfo(text)
                    timezone = text
                except (ZoneInfoNotFoundError, ValueError):
                    self.error(
                        zone_line, f"unknown timezone {text!r}: use an IANA name like Europe/Berlin"
                    )
        if self.required(spec, "working_hours", line, f"rep {name or '?'}"):
            hours_line = line_of(spec, "working_hours", line)
            try:
                hours = parse_working_hours(spec["working_hours"])
            except ValueError as exc:
                self.error(hours_line, str(exc))
        territories: tuple[str, ...] = ()
        countries: frozenset[str] = frozenset()
        if spec.get("territories") is not None:
            parsed = self.countries_or_regions(
                spec["territories"], line_of(spec, "territories", line), "territories", regions
            )
            if parsed is not None:
                territories, countries = parsed
        rep_segments: frozenset[str] = frozenset()
        if spec.get("segments") is not None:
            rep_segments = (
                self.segment_names(
                    spec["segments"], line_of(spec, "segments", line), "segments", segments
                )
                or frozenset()
            )
        capacity = None
        if spec.get("capacity") is not None:
            capacity_line = line_of(spec, "capacity", line)
            number = self.number(spec["capacity"], capacity_line, "capacity")
            if number is not None and (number < 1 or number != int(number)):
                self.error(
                    capacity_line, "capacity must be a whole number of open handoffs, at least 1"
                )
            elif number is not None:
                capacity = int(number)
        out_of_office = None
        if spec.get("out_of_office") is not None:
            ooo_line = line_of(spec, "out_of_office", line)
            try:
                out_of_office = date.fromisoformat(str(spec["out_of_office"]).strip())
            except ValueError:
                self.error(
                    ooo_line,
                    f"out_of_office {spec['out_of_office']!r}: use the last day away as YYYY-MM-DD",
                )
        manager = None
        if spec.get("manager") is not None:
            manager = self.email(spec["manager"], line_of(spec, "manager", line), "manager")
        active = True
        if spec.get("active") is not None:
            active = bool(self.boolean(spec["active"], line_of(spec, "active", line), "active"))
        if len(self.problems) > before or name is None or email is None or hours is None:
            return None
        return Rep(
            email=email,
            name=name,
            timezone=timezone,
            working_hours=hours,
            title=self.optional_text(spec, "title", line),
            phone=self.optional_text(spec, "phone", line),
            territories=territories,
            countries=countries,
            segments=rep_segments,
            capacity=capacity,
            out_of_office_until=out_of_office,
            manager_email=manager,
            active=active,
            line=line,
        )

    def reasons(self, value: Any, line: int) -> tuple[RejectReason, ...]:
        """``reject_reasons``: why sales may hand a lead back, and the stage it goes to."""
        if not isinstance(value, list) or not value:
            shown = "an empty list" if isinstance(value, list) else kind_name(value)
            self.error(
                own_line(value, line), f"reject_reasons must be a list of reasons, not {shown}"
            )
            return ()
        reasons: list[RejectReason] = []
        for index, item in enumerate(value):
            item_line = line_of(value, index, line)
            spec = self.mapping(item, item_line, "a reject reason")
            if spec is None:
                continue
            item_line = own_line(spec, item_line)
            self.fields(spec, REASON_FIELDS, item_line)
            reason_id = label = None
            if self.required(spec, "id", item_line, "the reason"):
                reason_id = self.key(spec["id"], line_of(spec, "id", item_line), "reason id")
            if self.required(spec, "label", item_line, f"reason {reason_id or '?'}"):
                label = self.text(
                    spec["label"], line_of(spec, "label", item_line), "label", max_length=MAX_NAME
                )
            stage = "recycled"
            if spec.get("stage") is not None:
                stage_line = line_of(spec, "stage", item_line)
                text = self.text(spec["stage"], stage_line, "stage")
                if text is not None and text not in REJECT_STAGES:
                    self.error(
                        stage_line,
                        f"stage {text!r}: a rejected lead goes to {' or '.join(REJECT_STAGES)}",
                    )
                elif text is not None:
                    stage = text
            if reason_id is None or label is None:
                continue
            if any(r.id == reason_id for r in reasons):
                self.error(item_line, f"duplicate reason id {reason_id!r}")
                continue
            reasons.append(RejectReason(reason_id, label, stage))
        return tuple(reasons)
