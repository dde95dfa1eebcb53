"""The lead service: create or update leads from validated data.

``upsert_lead``/``upsert_leads`` find each lead by its normalised email, change only what
was given, link the lead to its company's account (``nurture.leads.accounts``), record a
timeline event, audit consent changes and fire the lead-created trigger, all inside the
caller's transaction. What they take is ``LeadFields`` from ``validate_lead_data``
(``nurture.leads.validation``); how each field is treated comes from the catalogue,
``nurture.leads.fields``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.instrumentation import manager_of_class

from nurture.consent import suppression as suppressions
from nurture.leads.accounts import (
    FREE_MAIL_DOMAINS,
    Accounts,
    account_domain,
    account_for,
    link_account,
)
from nurture.leads.fields import (
    ACCOUNT_FILL,
    CONSENT_COLUMNS,
    DEFAULTABLE_COLUMNS,
    FIRST_TOUCH_COLUMNS,
    OVERWRITTEN_COLUMNS,
)
from nurture.leads.lifecycle import IMPORT_ACTOR, change_stage
from nurture.leads.new_leads import insert_new_leads
from nurture.leads.validation import LeadFields
from nurture.models import Account, AuditLog, Event, Lead
from nurture.platform import hooks
from nurture.platform.db import among, bulk_insert, table_of
from nurture.platform.i18n import COUNTRY_LANGUAGES

DEFAULT_STAGE = "subscriber"
_LEADS = manager_of_class(Lead)
# What a person may empty in a form: the overwritten profile columns that are not part of
# the consent record (consent changes only through its own paths, with evidence).
CLEARABLE_COLUMNS = frozenset(OVERWRITTEN_COLUMNS) - CONSENT_COLUMNS


@dataclass(slots=True)
class UpsertResult:
    """What ``upsert_lead`` did to one lead."""

    lead: Lead
    created: bool
    # Lead fields whose stored value changed ("account" when the lead joined an account).
    changed: set[str]
    account_created: bool = False
    # (old stage, new stage) when an explicit stage moved an existing lead.
    stage_change: tuple[str, str] | None = None
    # Company data was given but no account could be determined (a free-mail address
    # without company_domain), so it was not stored.
    unlinked_company: bool = False
    # Empty fields of an existing account were filled from this lead's company data.
    account_filled: bool = False
    # Custom attributes whose value changed (added, changed or removed), by key.
    changed_attributes: set[str] = field(default_factory=set)

    def changed_names(self) -> frozenset[str]:
        """What changed, named as campaign conditions name it: lead fields and
        ``attributes.KEY`` (the ``attribute_changed`` triggers compare these)."""
        names = {name for name in self.changed if name not in ("attributes", "account")}
        return frozenset(names | {f"attributes.{key}" for key in self.changed_attributes})


def upsert_lead(
    session: Session,
    lead_fields: LeadFields,
    *,
    now: datetime,
    source: str,
    defaults: Mapping[str, Any] | None = None,
    free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS,
    clear: Collection[str] = (),
) -> UpsertResult:
    """Create or update the lead with ``lead_fields.email`` (see ``upsert_leads``)."""
    return upsert_leads(
        session,
        [lead_fields],
        now=now,
        source=source,
        defaults=defaults,
        free_mail_domains=free_mail_domains,
        clear=clear,
    )[0]


def upsert_leads(
    session: Session,
    items: Sequence[LeadFields],
    *,
    now: datetime,
    source: str,
    defaults: Mapping[str, Any] | None = None,
    free_mail_domains: frozenset[str] = FREE_MAIL_DOMAINS,
    double_opt_in: bool = False,
    clear: Collection[str] = (),
) -> list[UpsertResult]:
    """Create or update many leads in the caller's transaction, one result per item.

    Rules, per item:

    - The lead is found by normalised email. A new lead gets stage ``subscriber`` unless a
      stage is given, ``source`` = the given source or the channel ``source`` ("api", "csv").
    - On update only given fields change; ``None`` leaves the stored value. ``attributes``
      merge key by key (a ``None`` value removes a key). ``source`` and ``utm_*`` are
      first-touch attribution: they are filled when empty and never overwritten.
    - The stage changes only when a stage is given explicitly; the change (even backwards)
      is recorded with its old and new value in the ``lead.updated`` event.
    - Account: an explicit ``company_domain`` always links the lead to that domain's
      account. Otherwise a lead that has no account joins the account of its email domain,
      unless that is a free-mail provider. The account is created when missing; its empty
      fields are filled from the lead's company data, non-empty ones are never overwritten.
    - ``defaults`` (columns in ``DEFAULTABLE_COLUMNS``) fill a column only while it is empty.
    - A ``lead.created``/``lead.updated`` event is recorded (nothing for an unchanged lead)
      and ``hooks.leads_created`` is sent once for the new leads, ``hooks.leads_changed`` for the
      existing leads that changed (campaigns re-evaluate their entry).
    - With ``double_opt_in``, given ``granted`` consent is stored as ``pending`` until the
      person confirms (``nurture.privacy.double_opt_in``); a suppressed address comes back
      suppressed, and every consent change is written to the audit log.
    - ``clear`` names columns a person emptied in a form (``CLEARABLE_COLUMNS`` only):
      existing leads lose their value, like any other change. Feeds never clear.
    """
    defaults = dict(defaults or {})
    unknown = set(defaults) - DEFAULTABLE_COLUMNS
    if unknown:
        raise ValueError(
            f"no defaults for {sorted(unknown)}; allowed: {sorted(DEFAULTABLE_COLUMNS)}"
        )
    not_clearable = set(clear) - CLEARABLE_COLUMNS
    if not_clearable:
        raise ValueError(
            f"cannot clear {sorted(not_clearable)}; allowed: {sorted(CLEARABLE_COLUMNS)}"
        )
    if not items:
        return []

    emails = {item.email for item in items}
    leads = {
        lead.email: lead
        for lead in session.scalars(select(Lead).where(among(session, Lead.email, emails)))
    }
    # An address on the suppression list (unsubscribed, bounced, erased...) comes back
    # suppressed: an import or API call is not new consent (nurture.consent.suppression.lift is).
    suppressed = suppressions.suppressions_for(session, emails - leads.keys())
    accounts = Accounts(session, now)
    accounts.prefetch(
        domains={d for item in items if (d := account_domain(item, free_mail_domains))},
        ids={lead.account_id for lead in leads.values() if lead.account_id is not None},
    )

    results: list[UpsertResult] = []
    # The leads this call creates, by address, with the account each joins: they are
    # inserted as plain rows once the new accounts have ids (``insert_new_leads``).
    new: dict[str, tuple[Lead, Account | None]] = {}
    for item in items:
        lead = leads.get(item.email)
        confirmed = lead is not None and lead.consent_confirmed_at is not None
        if double_opt_in and item.consent_status == "granted" and not confirmed:
            item = replace(item, consent_status="pending")
        if lead is None:
            lead = _new_lead(item, now=now, source=source, defaults=defaults)
            if item.email in suppressed:
                suppressions.mark_lead_suppressed(
                    lead, reason=suppressed[item.email].reason, now=now
                )
            new[item.email] = (lead, None)
            leads[item.email] = lead
            result = UpsertResult(lead=lead, created=True, changed=_given_lead_fields(item))
        else:
            before = lead.stage
            old_attributes = dict(lead.attributes or {})
            changed = _update_lead(lead, item, now=now, defaults=defaults, clear=clear)
            result = UpsertResult(lead=lead, created=False, changed=changed)
            if "attributes" in changed:
                new_attributes = lead.attributes or {}
                result.changed_attributes = {
                    key
                    for key in old_attributes.keys() | new_attributes.keys()
                    if old_attributes.get(key) != new_attributes.get(key)
                }
            if "stage" in changed and item.stage is not None:
                result.stage_change = (before, item.stage)
        if item.email in new:
            account, link = account_for(new[item.email][1], item, accounts, free_mail_domains)
            new[item.email] = (lead, account)
        else:
            link = link_account(lead, item, accounts, free_mail_domains)
        if link.moved:
            result.changed.add("account")
        result.account_created = link.created
        result.account_filled = link.filled
        result.unlinked_company = link.unlinked
        if lead.locale is None and item.country is not None:
            # Nobody said which language the person reads: their country's is the best
            # guess, and one stored value keeps every email and page consistent.
            derived = COUNTRY_LANGUAGES.get(item.country)
            if derived is not None:
                lead.locale = derived
                result.changed.add("locale")
        if result.changed and not result.created:
            lead.updated_at = now
        results.append(result)

    # The flush gives the new accounts their ids (and writes the changed leads), then the
    # new leads go in as rows: the events and the enrolment trigger need their ids.
    session.flush()
    created_pairs = list(new.values())
    insert_new_leads(
        session,
        created_pairs,
        before_insert=lambda: hooks.publish(
            hooks.leads_creating, session, leads=created_pairs, now=now
        ),
    )
    events: list[dict[str, Any]] = []
    # Rows with equal JSON values share one object, which the bulk insert encodes once
    # (most of a batch's new leads were given the same fields).
    shared: dict[tuple[Any, ...], dict[str, Any]] = {}
    no_reasons: list[str] = []
    for result in results:
        if not result.changed and not result.created:
            continue
        names = tuple(sorted(result.changed))
        properties = shared.get((names, result.stage_change))
        if properties is None:
            properties = {"source": source, "changed": list(names)}
            if result.stage_change:
                properties["stage"] = dict(zip(("from", "to"), result.stage_change, strict=True))
            shared[(names, result.stage_change)] = properties
        events.append(
            {
                "lead_id": result.lead.id,
                "type": "lead.created" if result.created else "lead.updated",
                "occurred_at": now,
                "recorded_at": now,
                "is_machine": False,
                "machine_reasons": no_reasons,
                "properties": properties,
            }
        )
    if events:
        # A bulk INSERT of plain rows: a tenth of the cost of one ORM object per event,
        # and nothing reads these rows back within the use case.
        bulk_insert(session.connection(), table_of(Event), events)
    audit_consent_changes(session, results, now=now, source=source, suppressed=suppressed)
    for result in results:
        if result.stage_change:
            # An explicit stage is the system of record (usually the CRM) speaking: any stage
            # is accepted, and recorded as a stage change by "import" with its channel.
            change_stage(
                session,
                result.lead,
                result.stage_change[1],
                reason=f"stage given explicitly ({source})",
                actor=IMPORT_ACTOR,
                now=now,
                override=True,
            )
    # New data changes the fit (and a changed account that of all its people); a lead it
    # makes ready is handed to sales in this same transaction.
    hooks.publish(
        hooks.leads_data_changed,
        session,
        leads=[result.lead for result in results if result.created or result.changed],
        now=now,
        account_ids={r.lead.account_id for r in results if r.account_filled and r.lead.account_id},
    )
    # A change can make an existing lead mailable or put it in a campaign's audience: the
    # campaigns it could not enter when it was created get another look.
    updated = [result for result in results if result.changed and not result.created]
    if updated:
        hooks.publish(
            hooks.leads_changed,
            session,
            leads=[result.lead for result in updated],
            changed={result.lead.id: result.changed_names() for result in updated},
            now=now,
        )
    created = [result.lead for result in results if result.created]
    if created:
        # One event for the set: campaigns decide once per campaign, not once per lead.
        hooks.publish(hooks.leads_created, session, leads=created, now=now)
    return results


def audit_consent_changes(
    session: Session,
    results: Sequence[UpsertResult],
    *,
    now: datetime,
    source: str,
    suppressed: Mapping[str, Any],
) -> None:
    """Write an audit row for every lead whose consent changed or that came back
    suppressed (one bulk insert; the row names the lead by id and peppered hash)."""

    pepper = suppressions.session_pepper(session)
    rows: list[dict[str, Any]] = []
    # Equal details share one object, encoded once by the bulk insert.
    details: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        lead = result.lead
        key = suppressions.email_hash(lead.email, pepper)
        changed = result.changed & CONSENT_COLUMNS
        if changed:
            record = (
                lead.consent_status,
                lead.lawful_basis,
                lead.consent_source,
                tuple(sorted(changed)),
            )
            detail = details.get(record)
            if detail is None:
                detail = details[record] = {
                    "status": record[0],
                    "lawful_basis": record[1],
                    "consent_source": record[2],
                    "changed": list(record[3]),
                }
            rows.append(
                {
                    "at": now,
                    "action": "consent.recorded",
                    "lead_id": lead.id,
                    "email_hash": key,
                    "actor": source,
                    "detail": detail,
                }
            )
        if result.created and lead.email in suppressed:
            rows.append(
                {
                    "at": now,
                    "action": "suppression.applied",
                    "lead_id": lead.id,
                    "email_hash": key,
                    "actor": source,
                    "detail": {"reason": lead.suppression_reason},
                }
            )
    if rows:
        bulk_insert(session.connection(), table_of(AuditLog), rows)


def _given_lead_fields(item: LeadFields) -> set[str]:
    return item.given() - {"email", "company_domain", *ACCOUNT_FILL}


def _new_lead(item: LeadFields, *, now: datetime, source: str, defaults: Mapping[str, Any]) -> Lead:
    values: dict[str, Any] = {
        name: getattr(item, name)
        for name in (*OVERWRITTEN_COLUMNS, *FIRST_TOUCH_COLUMNS)
        if getattr(item, name) is not None
    }
    for name, value in defaults.items():
        values.setdefault(name, value)
    values.setdefault("source", source)
    values.setdefault("consent_status", "unknown")
    attributes = {k: v for k, v in (item.attributes or {}).items() if v is not None}
    # Made as the ORM makes an object for a row it loads (no constructor, no init event),
    # and its values go straight into its state, without an attribute event per column:
    # it is inserted as a row and then joins the session as loaded (``insert_new_leads``).
    lead: Lead = _LEADS.new_instance()
    lead.__dict__.update(
        email=item.email,
        stage=item.stage or DEFAULT_STAGE,
        stage_changed_at=now,
        temperature="cold",
        score_value=0.0,
        attributes=attributes,
        created_at=now,
        updated_at=now,
        **values,
    )
    return lead


def _update_lead(
    lead: Lead,
    item: LeadFields,
    *,
    now: datetime,
    defaults: Mapping[str, Any],
    clear: Collection[str] = (),
) -> set[str]:
    changed: set[str] = set()
    for name in clear:
        if getattr(item, name) is None and getattr(lead, name) is not None:
            setattr(lead, name, None)
            changed.add(name)
    for name in OVERWRITTEN_COLUMNS:
        value = getattr(item, name)
        if value is not None and getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.add(name)
    for name in FIRST_TOUCH_COLUMNS:
        value = getattr(item, name)
        if value is not None and getattr(lead, name) is None:
            setattr(lead, name, value)
            changed.add(name)
    for name, value in defaults.items():
        if getattr(item, name) is None and getattr(lead, name) is None:
            setattr(lead, name, value)
            changed.add(name)
    if item.stage is not None and item.stage != lead.stage:
        # Not set here: ``upsert_leads`` moves the lead through ``nurture.leads.lifecycle`` once the
        # rows are flushed, so the change is recorded like any other (actor "import").
        changed.add("stage")
    if item.attributes:
        merged = dict(lead.attributes or {})
        for key, value in item.attributes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if merged != (lead.attributes or {}):
            # A new dict object, so the ORM sees the JSON column change.
            lead.attributes = merged
            changed.add("attributes")
    return changed
