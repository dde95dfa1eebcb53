"""The ``assignment`` section of the sales team file: the rules that pick a rep for a lead.

Each rule may narrow itself to segments and territories (``when``), then picks by matching
territory and/or segment (``match``) or from a pool of reps; ``fallback`` says what happens
when no rule picks anyone. ``nurture.handoff.assignment`` applies the rules read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nurture.files.problems import kind_name
from nurture.files.yaml_lines import line_of, own_line
from nurture.handoff.team import FALLBACKS, MATCH_KEYS, AssignmentRule
from nurture.handoff.team_fields import TeamFieldParser

RULE_FIELDS = ("id", "description", "when", "match", "reps")
WHEN_FIELDS = ("segment", "territory")
ASSIGNMENT_FIELDS = ("rules", "fallback")


class AssignmentParser(TeamFieldParser):
    """Reads the assignment rules of a team file, checking the regions, segments and reps
    they name against those the file defines."""

    def assignment(
        self,
        value: Any,
        line: int,
        regions: Mapping[str, frozenset[str]],
        segments: set[str],
        rep_emails: set[str],
    ) -> tuple[tuple[AssignmentRule, ...], str]:
        """``assignment``: the rules, in order, and the fallback when none picks a rep."""
        spec = self.mapping(value, line, "assignment")
        if spec is None:
            return (), "round-robin"
        self.fields(spec, ASSIGNMENT_FIELDS, line)
        fallback = "round-robin"
        if spec.get("fallback") is not None:
            fallback_line = line_of(spec, "fallback", line)
            text = self.text(spec["fallback"], fallback_line, "fallback")
            if text is not None and text not in FALLBACKS:
                self.error(fallback_line, f"fallback {text!r}: use {' or '.join(FALLBACKS)}")
            elif text is not None:
                fallback = text
        rules: list[AssignmentRule] = []
        raw = spec.get("rules")
        if raw is None:
            return (), fallback
        rules_line = line_of(spec, "rules", line)
        if not isinstance(raw, list):
            self.error(
                own_line(raw, rules_line), f"assignment.rules must be a list, not {kind_name(raw)}"
            )
            return (), fallback
        for index, item in enumerate(raw):
            rule = self.rule(item, line_of(raw, index, rules_line), regions, segments, rep_emails)
            if rule is None:
                continue
            if any(r.id == rule.id for r in rules):
                self.error(rule.line, f"duplicate rule id {rule.id!r}")
                continue
            rules.append(rule)
        return tuple(rules), fallback

    def rule(
        self,
        value: Any,
        line: int,
        regions: Mapping[str, frozenset[str]],
        segments: set[str],
        rep_emails: set[str],
    ) -> AssignmentRule | None:
        """One assignment rule: its ``when``, ``match`` and ``reps``."""
        spec = self.mapping(value, line, "an assignment rule")
        if spec is None:
            return None
        line = own_line(spec, line)
        before = len(self.problems)
        self.fields(spec, RULE_FIELDS, line)
        rule_id = None
        if self.required(spec, "id", line, "the rule"):
            rule_id = self.key(spec["id"], line_of(spec, "id", line), "rule id")
        only_segments = only_countries = None
        if spec.get("when") is not None:
            when_line = line_of(spec, "when", line)
            when = self.mapping(spec["when"], when_line, "when")
            if when is not None:
                self.fields(when, WHEN_FIELDS, when_line)
                if "segment" in when:
                    only_segments = self.segment_names(
                        when["segment"],
                        line_of(when, "segment", when_line),
                        "when.segment",
                        segments,
                    )
                if "territory" in when:
                    parsed = self.countries_or_regions(
                        when["territory"],
                        line_of(when, "territory", when_line),
                        "when.territory",
                        regions,
                    )
                    only_countries = parsed[1] if parsed else None
        match: tuple[str, ...] = ()
        if spec.get("match") is not None:
            match_line = line_of(spec, "match", line)
            names = self.names(spec["match"], match_line, "match", MATCH_KEYS, "match key")
            match = tuple(key for key in MATCH_KEYS if names and key in names)
        pool: list[str] = []
        if spec.get("reps") is not None:
            reps_line = line_of(spec, "reps", line)
            items = spec["reps"] if isinstance(spec["reps"], list) else [spec["reps"]]
            for index, item in enumerate(items):
                email = self.email(item, line_of(spec["reps"], index, reps_line), "reps")
                if email is not None and email not in rep_emails:
                    self.error(
                        line_of(spec["reps"], index, reps_line),
                        f"reps: {email} is not one of the reps above",
                    )
                elif email is not None:
                    pool.append(email)
        if not match and not pool:
            self.error(line, f"rule {rule_id or '?'} needs match (territory, segment) and/or reps")
        if len(self.problems) > before or rule_id is None:
            return None
        return AssignmentRule(
            id=rule_id,
            match=match,
            segments=only_segments,
            countries=only_countries,
            reps=tuple(pool),
            description=self.optional_text(spec, "description", line) or "",
            line=line,
        )
