"""Whether a lead may receive campaign email (pure)."""

from __future__ import annotations

from nurture.models import Lead

# Lawful bases that permit marketing email without a recorded opt-in. Consent itself
# counts only when the lead actually granted it (double opt-in confirmed, if used).
_BASES_WITHOUT_OPT_IN = frozenset({"legitimate_interest", "contract"})


def is_mailable(lead: Lead) -> bool:
    """True when campaigns may email the lead: not unsubscribed or withdrawn, and either
    consent granted or a lawful basis that does not need it."""
    if lead.unsubscribed_at is not None or lead.consent_status == "withdrawn":
        return False
    # Suppressed (unsubscribe, hard bounce, complaint, erasure, by hand): never, whatever
    # the consent columns say; only nurture.consent.suppression.lift clears this.
    if lead.suppressed_at is not None:
        return False
    if lead.consent_status == "granted":
        return True
    return lead.consent_status != "pending" and lead.lawful_basis in _BASES_WITHOUT_OPT_IN


def wants_topic(lead: Lead, topic: str | None) -> bool:
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
