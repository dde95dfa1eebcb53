"""The lead field catalogue: one entry per lead field that more than one part of Nurture
has to know about, saying what kind of value it holds and who may do what with it.

The lists the rest of the code works from are derived from ``LEAD_FIELDS`` below, in
catalogue order: what ``validate_lead_data`` accepts (API, CSV import, forms), how an upsert
treats a field already stored, which columns a caller may default, which make up the
consent record, what erasure clears, and what a campaign condition may compare. A new field
is added here once, not in each of those places.

Exporting needs no list: it copies every column of the lead's row
(``nurture.privacy.rights``). CSV header spellings are not here either: they describe other
tools' export files and only the CSV import reads them (``nurture.leads.csv_columns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nurture.leads.stages import LIFECYCLE_STAGES

CONSENT_STATUSES = ("granted", "pending", "unknown", "withdrawn")
LAWFUL_BASES = ("consent", "legitimate_interest", "contract", "legal_obligation")

# How a given value is checked and normalised (``nurture.leads.validation``).
Kind = Literal[
    "email",
    "text",
    "phone",
    "timezone",
    "locale",
    "choice",
    "timestamp",
    "attributes",
    "domain",
    "integer",
    "country",
]
# What an upsert does with a given value when the lead already has one: "overwrite" takes
# the new value, "first_touch" keeps the stored one (where the lead first came from).
OnUpdate = Literal["overwrite", "first_touch"]

# employees and branches are INTEGER columns, annual_revenue is BIGINT.
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadField:
    """One lead field and its rules."""

    name: str
    kind: Kind
    # Longest text accepted: the size of the column the value is stored in, so a valid
    # value always fits (free-text kinds only).
    max_length: int | None = None
    # Largest whole number accepted (integer kind), again the column's range.
    maximum: int | None = None
    # The accepted values (choice kind).
    choices: tuple[str, ...] = ()
    # Accepted from outside: the API, the CSV import, forms.
    importable: bool = False
    # Stored on the lead row and updated by the given rule; None for the fields an upsert
    # handles on their own (the email key, the stage, attributes, company data).
    on_update: OnUpdate | None = None
    # Company data: the account column the value fills while that column is empty.
    account_column: str | None = None
    # A caller may give a fill-only default for it (e.g. the import's --consent-basis).
    defaultable: bool = False
    # Part of the consent record: a change is written to the audit log.
    consent: bool = False
    # Identifies or describes the person: cleared when their data is erased.
    erasable: bool = False
    # A campaign ``attribute`` condition may compare it (the engine gathers it per lead).
    condition: bool = False


LEAD_FIELDS: tuple[LeadField, ...] = (
    LeadField(name="email", kind="email", importable=True, condition=True),
    *(
        LeadField(
            name=name,
            kind="text",
            max_length=limit,
            importable=True,
            on_update="overwrite",
            erasable=True,
            condition=True,
        )
        for name, limit in (("first_name", 100), ("last_name", 100), ("title", 200))
    ),
    LeadField(
        name="phone",
        kind="phone",
        max_length=50,
        importable=True,
        on_update="overwrite",
        erasable=True,
        condition=True,
    ),
    LeadField(
        name="timezone",
        kind="timezone",
        max_length=64,
        importable=True,
        on_update="overwrite",
        defaultable=True,
        erasable=True,
        condition=True,
    ),
    LeadField(
        name="locale",
        kind="locale",
        max_length=20,
        importable=True,
        on_update="overwrite",
        defaultable=True,
        erasable=True,
        condition=True,
    ),
    # First-touch attribution: where the lead first came from is kept; a later touch fills
    # these only while they are empty (and is still visible in its lead.updated event).
    LeadField(
        name="source",
        kind="text",
        max_length=100,
        importable=True,
        on_update="first_touch",
        defaultable=True,
        erasable=True,
        condition=True,
    ),
    *(
        LeadField(
            name=f"utm_{part}",
            kind="text",
            max_length=200,
            importable=True,
            on_update="first_touch",
            erasable=True,
            # Campaign conditions are offered the source, medium and campaign only.
            condition=part in ("source", "medium", "campaign"),
        )
        for part in ("source", "medium", "campaign", "term", "content")
    ),
    LeadField(
        name="stage", kind="choice", choices=LIFECYCLE_STAGES, importable=True, condition=True
    ),
    # Set by scoring, never given from outside.
    LeadField(name="temperature", kind="text", condition=True),
    LeadField(
        name="consent_status",
        kind="choice",
        choices=CONSENT_STATUSES,
        importable=True,
        on_update="overwrite",
        consent=True,
    ),
    LeadField(
        name="lawful_basis",
        kind="choice",
        choices=LAWFUL_BASES,
        importable=True,
        on_update="overwrite",
        defaultable=True,
        consent=True,
    ),
    LeadField(
        name="consent_source",
        kind="text",
        max_length=200,
        importable=True,
        on_update="overwrite",
        defaultable=True,
        consent=True,
        erasable=True,
    ),
    LeadField(
        name="consent_text",
        kind="text",
        max_length=500,
        importable=True,
        on_update="overwrite",
        defaultable=True,
        consent=True,
        erasable=True,
    ),
    LeadField(
        name="consent_at",
        kind="timestamp",
        importable=True,
        on_update="overwrite",
        consent=True,
    ),
    # Consent evidence (where a confirmation came from, which wording was agreed to):
    # recorded by Nurture itself, never given from outside.
    LeadField(name="consent_ip", kind="text", erasable=True),
    LeadField(name="consent_version", kind="text", erasable=True),
    LeadField(name="attributes", kind="attributes", importable=True),
    LeadField(name="company", kind="text", max_length=200, importable=True, account_column="name"),
    # Names the account to join; not stored as such (it is the account's domain).
    LeadField(name="company_domain", kind="domain", importable=True),
    LeadField(
        name="industry",
        kind="text",
        max_length=100,
        importable=True,
        account_column="industry",
    ),
    LeadField(
        name="employees",
        kind="integer",
        maximum=_INT32_MAX,
        importable=True,
        account_column="employees",
    ),
    LeadField(
        name="annual_revenue",
        kind="integer",
        maximum=_INT64_MAX,
        importable=True,
        account_column="annual_revenue",
    ),
    LeadField(
        name="branches",
        kind="integer",
        maximum=_INT32_MAX,
        importable=True,
        account_column="branches",
    ),
    LeadField(name="country", kind="country", importable=True, account_column="country"),
)

# What ``validate_lead_data`` accepts, in the order error messages list them.
IMPORTABLE_FIELDS = tuple(field.name for field in LEAD_FIELDS if field.importable)
# Lead columns that take the given value whenever one is given.
OVERWRITTEN_COLUMNS = tuple(field.name for field in LEAD_FIELDS if field.on_update == "overwrite")
# Lead columns an upsert fills only while they are empty.
FIRST_TOUCH_COLUMNS = tuple(field.name for field in LEAD_FIELDS if field.on_update == "first_touch")
DEFAULTABLE_COLUMNS = frozenset(field.name for field in LEAD_FIELDS if field.defaultable)
CONSENT_COLUMNS = frozenset(field.name for field in LEAD_FIELDS if field.consent)
# Lead field -> account column filled from it when the account's column is empty.
ACCOUNT_FILL = {
    field.name: field.account_column for field in LEAD_FIELDS if field.account_column is not None
}
# Lead columns cleared (set to null) when the person's data is erased.
ERASABLE_COLUMNS = tuple(field.name for field in LEAD_FIELDS if field.erasable)
# Lead fields a campaign ``attribute`` condition may compare.
CONDITION_FIELDS = tuple(field.name for field in LEAD_FIELDS if field.condition)
