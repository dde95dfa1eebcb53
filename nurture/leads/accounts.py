"""Which account (company) a lead belongs to, and the accounts an upsert touches.

Leads join the account of their company's domain: the explicit ``company_domain``, else the
domain of their email address unless that is a free-mail provider. Company data given with
a lead fills the account's empty columns; it never overwrites what the account holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from nurture.leads.fields import ACCOUNT_FILL
from nurture.leads.validation import LeadFields
from nurture.models import Account, Lead
from nurture.platform.db import among

# Addresses at these providers say nothing about the person's employer, so they never create
# or join an account by their domain. Deployments will be able to extend the list through
# settings; callers pass the effective set as ``free_mail_domains``.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
    }
)


def account_domain(
    lead_fields: LeadFields, free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS
) -> str | None:
    """The domain whose account the lead should join: the explicit ``company_domain``, else
    the email's domain unless it is a free-mail provider."""
    if lead_fields.company_domain:
        return lead_fields.company_domain
    domain = lead_fields.email_domain
    return None if domain in free_mail_domains else domain


class Accounts:
    """Accounts needed by one upsert call, fetched in one query and created on demand."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.by_domain: dict[str, Account] = {}
        self.by_id: dict[int, Account] = {}

    def prefetch(self, *, domains: Iterable[str], ids: Iterable[int]) -> None:
        """Load the accounts with these domains or ids in one query."""
        domains, ids = set(domains), set(ids)
        if not domains and not ids:
            return
        query = select(Account).where(
            among(self.session, Account.domain, domains) | among(self.session, Account.id, ids)
        )
        for account in self.session.scalars(query):
            self.by_id[account.id] = account
            if account.domain:
                self.by_domain[account.domain] = account

    def get(self, account_id: int) -> Account | None:
        """The account with this id (from the prefetch when it is there)."""
        account = self.by_id.get(account_id)
        if account is None:
            account = self.session.get(Account, account_id)
        return account

    def get_or_create(self, domain: str) -> tuple[Account, bool]:
        """The account of ``domain``, and whether it was created just now."""
        account = self.by_domain.get(domain)
        if account is not None:
            return account, False
        account = Account(domain=domain, attributes={}, created_at=self.now, updated_at=self.now)
        self.session.add(account)
        self.by_domain[domain] = account
        return account, True


@dataclass(frozen=True, slots=True)
class AccountLink:
    """What ``link_account`` did for one lead."""

    # The lead joined a different account (or its first one).
    moved: bool = False
    # The account was created for this lead.
    created: bool = False
    # Empty columns of an existing account were filled from the lead's company data.
    filled: bool = False
    # Company data was given but no account could be determined (a free-mail address
    # without company_domain), so it was not stored.
    unlinked: bool = False


_NOT_LOADED = object()


def _current_account(lead: Lead, accounts: Accounts) -> Account | None:
    # A lead created earlier in this call has its account only in memory (no id yet);
    # otherwise go by the foreign key, which needs no query when the account was prefetched.
    # (The instance dict holds only attributes that were loaded or set.)
    loaded = inspect(lead).dict.get("account", _NOT_LOADED)
    if loaded is not _NOT_LOADED:
        return loaded
    return None if lead.account_id is None else accounts.get(lead.account_id)


def link_account(
    lead: Lead, item: LeadFields, accounts: Accounts, free_mail: frozenset[str]
) -> AccountLink:
    """Link ``lead`` to its account (see the module docstring) and fill the account's empty
    columns from ``item``'s company data."""
    account, link = account_for(_current_account(lead, accounts), item, accounts, free_mail)
    if link.moved:
        lead.account = account
    return link


def account_for(
    current: Account | None, item: LeadFields, accounts: Accounts, free_mail: frozenset[str]
) -> tuple[Account | None, AccountLink]:
    """The account a lead whose account is ``current`` belongs to after ``item`` (see the
    module docstring), with the account's empty columns filled from ``item``'s company
    data; the lead itself is left alone (a lead inserted as a plain row gets the account's
    id once it has one)."""
    created = False
    if item.company_domain:
        account, created = accounts.get_or_create(item.company_domain)
    elif current is not None:
        # The email's domain never moves a lead away from its account: the link may have
        # been made explicitly with company_domain.
        account = current
    else:
        domain = account_domain(item, free_mail)
        if domain is None:
            return current, AccountLink(unlinked=item.has_company_data())
        account, created = accounts.get_or_create(domain)
    filled = False
    for lead_field, column in ACCOUNT_FILL.items():
        value = getattr(item, lead_field)
        if value is not None and getattr(account, column) in (None, ""):
            setattr(account, column, value)
            filled = True
    if filled and not created:
        account.updated_at = accounts.now
    return account, AccountLink(
        moved=account is not current, created=created, filled=filled and not created
    )
