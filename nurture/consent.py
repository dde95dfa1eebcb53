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
    if lead.consent_status == "granted":
        return True
    return lead.consent_status != "pending" and lead.lawful_basis in _BASES_WITHOUT_OPT_IN
