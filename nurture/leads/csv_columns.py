"""CSV columns: which column of a lead file holds which lead field.

Headers are recognised by name (any field name, or a spelling other tools' exports use, in
``HEADER_ALIASES``) and can be mapped by hand (``--map "Work Email=email"``). The result is
a ``ColumnPlan``; a mapping that cannot work raises ``LeadImportError`` before any row is
read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nurture.leads.fields import IMPORTABLE_FIELDS

# What happens to columns that are not lead fields: dropped, or kept as custom attributes.
EXTRA_COLUMN_MODES = ("ignore", "attributes")
# Columns the rejects file adds; a corrected rejects file can be imported as it is.
LINE_COLUMN = "_line"
REASON_COLUMN = "_reason"
# ``--map "Notes=-"`` drops a column on purpose (it is then not reported as ignored).
IGNORE_TARGET = "-"
_ATTRIBUTE_PREFIX = "attributes."
_ATTRIBUTE_KEY_MAX = 64

# Header spellings seen in CRM and spreadsheet exports, after normalisation (lower case,
# runs of other characters turned into "_"). Every field name also maps to itself.
HEADER_ALIASES: dict[str, str] = {
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "mail": "email",
    "work_email": "email",
    "business_email": "email",
    "firstname": "first_name",
    "first": "first_name",
    "given_name": "first_name",
    "forename": "first_name",
    "lastname": "last_name",
    "last": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "job_title": "title",
    "jobtitle": "title",
    "position": "title",
    "phone_number": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "time_zone": "timezone",
    "language": "locale",
    "lead_source": "source",
    "lifecycle_stage": "stage",
    "legal_basis": "lawful_basis",
    "consent_date": "consent_at",
    "consented_at": "consent_at",
    "company_name": "company",
    "organization": "company",
    "organisation": "company",
    "account_name": "company",
    "domain": "company_domain",
    "website": "company_domain",
    "company_website": "company_domain",
    "number_of_employees": "employees",
    "employee_count": "employees",
    "headcount": "employees",
    "revenue": "annual_revenue",
    "country_code": "country",
}


class LeadImportError(Exception):
    """The import cannot start: the file cannot be read, or the column mapping is wrong."""


def normalise_header(header: str) -> str:
    """``"E-mail Address "`` → ``"e_mail_address"``."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def parse_mapping(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse ``["Work Email=email", "Plan=attributes.plan"]`` into ``{column: target}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise LeadImportError(f"bad mapping {pair!r}: use 'Column name=field'")
        mapping[column.strip()] = target.strip()
    return mapping


@dataclass
class ColumnPlan:
    """How each column of the file becomes lead data."""

    header: list[str]
    # Column index -> lead field ("attributes" means a JSON object in the cell).
    fields: dict[int, str]
    # Column index -> custom attribute key.
    attributes: dict[int, str]
    ignored: list[str]

    def describe(self) -> dict[str, str]:
        """Column name -> what it becomes, as the import summary shows it."""
        described = {self.header[i]: name for i, name in self.fields.items()}
        described.update({self.header[i]: f"attributes.{k}" for i, k in self.attributes.items()})
        return described


def is_target(target: str) -> bool:
    """True when ``target`` is something a column can become: a lead field,
    ``attributes.<name>`` (at most 64 characters) or ``-`` (skip the column)."""
    if target in IMPORTABLE_FIELDS or target == IGNORE_TARGET:
        return True
    key = target.removeprefix(_ATTRIBUTE_PREFIX)
    return target.startswith(_ATTRIBUTE_PREFIX) and 0 < len(key.strip()) <= _ATTRIBUTE_KEY_MAX


def plan_columns(
    header: list[str],
    mapping: Mapping[str, str],
    extra_columns: str,
    targets: Sequence[str] | None = None,
) -> tuple[ColumnPlan, list[str]]:
    """Assign every column a field, an attribute, or nothing. Returns the plan and notes.

    ``targets`` (one per column, in order: what the web app's mapping form gives) names every
    column's target by position, so columns without a name or with the same name can be
    mapped too; ``mapping`` names them by header.
    """
    notes: list[str] = []
    by_name = {name: i for i, name in enumerate(header)}
    by_normalised: dict[str, int] = {}
    for i, name in enumerate(header):
        by_normalised.setdefault(normalise_header(name), i)

    explicit: dict[int, str] = {}
    if targets is not None:
        if len(targets) != len(header):
            raise LeadImportError(
                f"the mapping names {len(targets)} columns; the file has {len(header)}"
            )
        for position, target in enumerate(targets):
            if not is_target(target):
                raise LeadImportError(f"column {position + 1}: {target!r} is not a lead field")
            explicit[position] = target
    for column, target in mapping.items():
        index = by_name.get(column)
        if index is None:
            index = by_normalised.get(normalise_header(column))
        if index is None:
            raise LeadImportError(
                f"--map names column {column!r}, which the file does not have; its columns "
                f"are: {', '.join(repr(h) for h in header)}"
            )
        if not is_target(target):
            raise LeadImportError(
                f"--map {column}={target}: {target!r} is not a lead field; use one of "
                f"{', '.join(IMPORTABLE_FIELDS)}, attributes.<name>, or - to skip the column"
            )
        explicit[index] = target

    fields: dict[int, str] = {}
    attributes: dict[int, str] = {}
    ignored: list[str] = []
    taken: dict[str, int] = {}
    for index, target in explicit.items():
        if target == IGNORE_TARGET:
            continue
        if target.startswith(_ATTRIBUTE_PREFIX):
            key = target.removeprefix(_ATTRIBUTE_PREFIX).strip()
            if key in attributes.values():
                raise LeadImportError(
                    f"columns {header[_key_index(attributes, key)]!r} and {header[index]!r} are "
                    f"both mapped to attribute {key!r}"
                )
            attributes[index] = key
            continue
        if target in taken:
            raise LeadImportError(
                f"columns {header[taken[target]]!r} and {header[index]!r} are both mapped to "
                f"{target!r}"
            )
        taken[target] = index
        fields[index] = target

    unmapped: list[int] = []
    for index, name in enumerate(header):
        if index in explicit or name in (LINE_COLUMN, REASON_COLUMN):
            continue
        key = normalise_header(name)
        guess = key if key in IMPORTABLE_FIELDS else HEADER_ALIASES.get(key)
        if guess is None:
            unmapped.append(index)
        elif guess in taken:
            notes.append(
                f"column {name!r} also looks like {guess!r}; column "
                f"{header[taken[guess]]!r} is used (choose with --map)"
            )
            unmapped.append(index)
        else:
            taken[guess] = index
            fields[index] = guess

    for index in unmapped:
        name = header[index]
        key = normalise_header(name)
        if extra_columns == "attributes" and key:
            if len(key) > 64:
                raise LeadImportError(f"column {name!r} is too long to be an attribute name")
            if key in attributes.values():
                raise LeadImportError(f"two columns become attribute {key!r}; name one with --map")
            attributes[index] = key
        else:
            ignored.append(name or f"(unnamed column {index + 1})")

    if "email" not in taken:
        raise LeadImportError(
            "no email column: name one with --map 'Column name=email' (columns are: "
            + ", ".join(repr(h) for h in header)
            + ")"
        )
    return ColumnPlan(header=header, fields=fields, attributes=attributes, ignored=ignored), notes


def _key_index(attributes: Mapping[int, str], key: str) -> int:
    return next(index for index, name in attributes.items() if name == key)
