"""A set of leads chosen by filters: for bulk actions (enrolling a filtered set in a
campaign) that must name the same leads in their preview and when they run."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from nurture.models import Account, Lead


@dataclass(frozen=True)
class LeadSelection:
    """Leads whose fields equal every filter given (None: any). Erased leads never match."""

    stage: str | None = None
    fit_grade: str | None = None
    temperature: str | None = None
    source: str | None = None
    account_domain: str | None = None

    @property
    def empty(self) -> bool:
        """True when no filter is set (the selection would be every lead)."""
        return not any(
            (self.stage, self.fit_grade, self.temperature, self.source, self.account_domain)
        )

    def ids(self) -> Select[int]:
        """The matching lead ids, in id order."""
        query = select(Lead.id).where(Lead.erased_at.is_(None)).order_by(Lead.id)
        if self.stage:
            query = query.where(Lead.stage == self.stage)
        if self.fit_grade:
            query = query.where(Lead.fit_grade == self.fit_grade)
        if self.temperature:
            query = query.where(Lead.temperature == self.temperature)
        if self.source:
            query = query.where(Lead.source == self.source)
        if self.account_domain:
            query = query.join(Account, Account.id == Lead.account_id).where(
                Account.domain == self.account_domain.strip().lower()
            )
        return query


def count_selected(session: Session, selection: LeadSelection, *, up_to: int) -> int:
    """How many leads match, counting no further than ``up_to`` (a bounded count: a
    selection of a million leads costs no more than one of ``up_to``)."""
    bounded = selection.ids().limit(up_to).subquery()
    return int(session.scalar(select(func.count()).select_from(bounded)) or 0)
