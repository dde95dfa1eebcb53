"""Whether a lead may receive campaign email, and if not why (pure)."""

from __future__ import annotations

from datetime import datetime

from nurture.models import Lead, LeadRow

# Lawful bases that permit marketing email without a recorded opt-in. Consent itself
# counts only when the lead actually granted it (double opt-in confirmed, if used).
_BASES_WITHOUT_OPT_IN = frozenset({"legitimate_interest", "contract"})

# Why a lead cannot be mailed, in the order they are checked (the first that applies is
# the reason): the import summary, the API and the lead page count and name them.
INVALID = "invalid"
SUPPRESSED = "suppressed"
WITHDRAWN = "withdrawn"
AWAITING_CONFIRMATION = "awaiting_confirmation"
NO_CONSENT_BASIS = "no_consent_basis"
NOT_MAILABLE_REASONS = (INVALID, SUPPRESSED, WITHDRAWN, AWAITING_CONFIRMATION, NO_CONSENT_BASIS)
# What each reason means, for summaries and help texts.
NOT_MAILABLE_LABELS = {
    INVALID: "invalid address (hard bounce)",
    SUPPRESSED: "suppressed (unsubscribed, complaint, erased or by hand)",
    WITHDRAWN: "consent withdrawn",
    AWAITING_CONFIRMATION: "consent pending (double opt-in not confirmed)",
    NO_CONSENT_BASIS: "no consent basis (consent not granted, no basis that allows mail)",
}
# Suppressions that say the address itself is bad rather than the person said no.
_INVALID_SUPPRESSIONS = frozenset({"hard_bounce"})


def not_mailable_reason(
    *,
    consent_status: str,
    lawful_basis: str | None,
    unsubscribed_at: datetime | None = None,
    suppressed_at: datetime | None = None,
    suppression_reason: str | None = None,
) -> str | None:
    """Why campaigns may not email a lead with these values (one of
    ``NOT_MAILABLE_REASONS``), or None when they may.

    Suppression (unsubscribe, hard bounce, complaint, erasure, by hand) wins over whatever
    the consent columns say: only ``nurture.consent.suppression.lift`` clears it. Otherwise
    a lead is mailable with consent granted, or with a lawful basis that needs no opt-in
    (legitimate interest, contract) while consent is neither pending nor withdrawn.
    """
    if suppressed_at is not None:
        return INVALID if suppression_reason in _INVALID_SUPPRESSIONS else SUPPRESSED
    if unsubscribed_at is not None:
        return SUPPRESSED
    if consent_status == "withdrawn":
        return WITHDRAWN
    if consent_status == "granted":
        return None
    if consent_status == "pending":
        return AWAITING_CONFIRMATION
    return None if lawful_basis in _BASES_WITHOUT_OPT_IN else NO_CONSENT_BASIS


def lead_not_mailable_reason(lead: Lead | LeadRow) -> str | None:
    """``not_mailable_reason`` for a stored lead."""
    return not_mailable_reason(
        consent_status=lead.consent_status,
        lawful_basis=lead.lawful_basis,
        unsubscribed_at=lead.unsubscribed_at,
        suppressed_at=lead.suppressed_at,
        suppression_reason=lead.suppression_reason,
    )


def is_mailable(lead: Lead | LeadRow) -> bool:
    """True when campaigns may email the lead: not suppressed, unsubscribed or withdrawn,
    and either consent granted or a lawful basis that does not need it."""
    return lead_not_mailable_reason(lead) is None


def wants_topic(lead: Lead | LeadRow, topic: str | None) -> bool:
    """False when the lead opted out of ``topic`` in the preference centre (a campaign
    without a topic is wanted by everyone who is mailable)."""
    return topic is None or topic not in (lead.topic_opt_outs or ())


def may_answer(lead: Lead) -> bool:
    """True when the lead may get the answer to a request it made itself (the auto-reply to
    a demo request): the request is the reason to write, so no marketing consent is needed,
    but never after an unsubscribe, a withdrawal, a suppression or an erasure."""
    if lead.unsubscribed_at is not None or lead.consent_status == "withdrawn":
        return False
    return lead.suppressed_at is None and lead.erased_at is None
