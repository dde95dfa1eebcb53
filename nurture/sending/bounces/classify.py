"""Bounce classification: parse a message, then apply the pure rules to each recipient."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from nurture.sending.bounces.fields import find_smtp_command
from nurture.sending.bounces.message import MalformedMessage, ParsedBounce, report_part
from nurture.sending.bounces.parse import parse_bounce
from nurture.sending.bounces.rules import (
    COMPLAINT,
    IGNORE,
    classify,
    decide,
    describe,
    is_delay_notice,
)


@dataclass(frozen=True)
class FailedRecipient:
    """One recipient's outcome, as the CLI prints it and the ingest applies it."""

    recipient: str
    status: str
    reply_code: str
    decision: str
    reason: str
    reason_code: str
    diagnostic: str = ""


@dataclass
class BounceReport:
    """The classified content of one message file."""

    kind: str
    recipients: list[FailedRecipient] = field(default_factory=list)
    original_message_id: str = ""
    nurture_token: str = ""
    bounce_message_id: str = ""
    feedback_type: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def classify_bytes(raw: bytes) -> BounceReport:
    """Classify one message. Never raises on bad input: the report carries ``error``."""
    try:
        parsed = parse_bounce(raw)
    except MalformedMessage as exc:
        return BounceReport(kind="malformed", error=str(exc))
    return classify_parsed(parsed)


def classify_parsed(parsed: ParsedBounce) -> BounceReport:
    """Apply the rules to parsed evidence."""
    report = BounceReport(
        kind=parsed.kind,
        original_message_id=parsed.original_message_id,
        nurture_token=parsed.nurture_token,
        bounce_message_id=parsed.bounce_message_id,
        feedback_type=parsed.feedback_type,
    )
    if parsed.kind == "unknown":
        report.error = "not a bounce, complaint or auto-reply this parser recognises"
    for evidence in parsed.recipients:
        if parsed.kind == "arf":
            reason_code, decision = "feedback", COMPLAINT
            human = f"{describe('feedback')}: feedback type {parsed.feedback_type}"
        elif parsed.kind == "autoreply":
            reason_code, decision, human = "vacation", IGNORE, describe("vacation")
        elif evidence.action == "delivered" or evidence.status.startswith("2."):
            reason_code = "delivered"
            decision, human = decide(reason_code), describe(reason_code)
        else:
            command = find_smtp_command(evidence.diagnostic) or find_smtp_command(parsed.context)
            delayed = evidence.action == "delayed" or is_delay_notice(
                f"{parsed.subject}\n{report_part(parsed.context)}"
            )
            verdict = classify(
                evidence.status, evidence.reply_code, evidence.diagnostic, command, delayed
            )
            reason_code, decision = verdict.reason, verdict.decision
            detail = " ".join(evidence.diagnostic.split())[:200]
            human = f"{verdict.human}: {detail}" if detail else verdict.human
        report.recipients.append(
            FailedRecipient(
                recipient=evidence.recipient,
                status=evidence.status,
                reply_code=evidence.reply_code,
                decision=decision,
                reason=human,
                reason_code=reason_code,
                diagnostic=evidence.diagnostic[:1000],
            )
        )
    return report
