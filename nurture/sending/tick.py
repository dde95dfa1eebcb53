"""What one tick of the send engine passes between its phases: the messages decided, their
outcomes, and the report of the whole tick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nurture.models import Campaign, Lead, LeadRow
from nurture.sending.delivery import DeliveryResult


@dataclass
class TickReport:
    """What one tick did (printed by ``nurture tick``, logged by the worker)."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    retried: int = 0
    completed: int = 0
    exited: int = 0
    waiting: int = 0
    batches: int = 0
    # Messages a receiving server refused with a 5xx that blames the sender (policy, IP
    # reputation, authentication): held back for a retry, counted in ``deferred`` too.
    refused_sender: int = 0
    # Leads suppressed because the server said at once that their mailbox does not exist.
    hard_bounced: int = 0

    def __str__(self) -> str:
        text = (
            f"claimed {self.claimed} enrolments in {self.batches} batches; emails sent "
            f"{self.sent}, deferred {self.deferred}, failed {self.failed} (retries "
            f"{self.retried}); enrolments completed {self.completed}, exited {self.exited}"
        )
        if self.hard_bounced:
            text += f"; {self.hard_bounced} lead(s) suppressed: their mailbox does not exist"
        if self.refused_sender:
            text += (
                f"; {self.refused_sender} email(s) refused because of the sender (see the "
                "log), held back for a retry"
            )
        return text


@dataclass
class Prepared:
    """A message recorded in the decide phase, with what is needed to render it."""

    message_pk: int
    token: str
    message_id: str
    template: str
    to_address: str
    lead: Lead | LeadRow
    campaign: Campaign | None
    attempts: int = 0
    # Transactional messages (handoff notifications, auto-replies): their kind, and what
    # their template sees besides the lead (nurture.handoff.mail.template_extras).
    kind: str = "campaign"
    extra: dict[str, Any] | None = None
    # The recipient's language when it is not the lead's (a rep's, for internal kinds).
    locale: str | None = None


Outcome = tuple[DeliveryResult | None, str | None, str | None, str | None]
