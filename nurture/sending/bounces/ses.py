"""Amazon SES notifications (bounce, complaint, delivery) forwarded by email as JSON."""

from __future__ import annotations

import json
import re

from nurture.sending.bounces.fields import find_reply_code, find_status, normalise_address
from nurture.sending.bounces.message import ParsedBounce, RecipientEvidence


def parse_ses_json(text: str, result: ParsedBounce) -> bool:
    """Amazon SES notifications (bounce, complaint, delivery) forwarded by e-mail as JSON."""
    stripped = text.strip()
    if not stripped.startswith("{") or "notificationType" not in stripped:
        return False
    body = stripped[: stripped.rfind("}") + 1]
    try:
        try:
            data = json.loads(body)
        except ValueError:
            # Mail transport wraps long lines; inside JSON strings that is noise.
            data = json.loads(body.replace("\r", "").replace("\n", ""))
        if isinstance(data.get("Message"), str):  # wrapped in an SNS envelope
            data = json.loads(data["Message"])
    except (ValueError, AttributeError):
        return False
    if not isinstance(data, dict):
        return False
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    if kind == "complaint":
        complaint = data.get("complaint") or {}
        result.kind = "arf"
        result.feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        for item in complaint.get("complainedRecipients") or [{}]:
            address = normalise_address(str(item.get("emailAddress", "")))
            result.recipients.append(
                RecipientEvidence(recipient=address, diagnostic=result.feedback_type)
            )
    elif kind == "bounce":
        bounce = data.get("bounce") or {}
        result.kind = "dsn"
        for item in bounce.get("bouncedRecipients") or []:
            diagnostic = str(item.get("diagnosticCode") or "")
            diagnostic = re.sub(r"^\s*smtp\s*;\s*", "", diagnostic, flags=re.I)
            result.recipients.append(
                RecipientEvidence(
                    recipient=normalise_address(str(item.get("emailAddress", ""))),
                    status=find_status(diagnostic) or find_status(str(item.get("status", ""))),
                    reply_code=find_reply_code(diagnostic),
                    diagnostic=diagnostic or str(bounce.get("bounceSubType", "")),
                    action=str(item.get("action", "")).lower(),
                )
            )
    elif kind == "delivery":
        delivery = data.get("delivery") or {}
        reply = str(delivery.get("smtpResponse", ""))
        result.kind = "dsn"
        for address in delivery.get("recipients") or []:
            result.recipients.append(
                RecipientEvidence(
                    recipient=normalise_address(str(address)),
                    status=find_status(reply),
                    reply_code=find_reply_code(reply),
                    diagnostic=reply,
                    action="delivered",
                )
            )
    mail = data.get("mail") or {}
    result.original_message_id = result.original_message_id or str(mail.get("messageId", ""))
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "x-nurture-message":
            result.nurture_token = str(header.get("value", ""))
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            result.original_message_id = str(header.get("value", "")).strip("<> ")
    return bool(result.recipients)
