"""CSV columns: which column of a lead file holds which lead field.

Headers are recognised by name (any field name, or one of its names in English, Polish,
German and five more languages in the synonyms file: ``nurture.leads.header_synonyms``) and
can be mapped by hand (``--map "Work Email=email"``). A column that is neither is never
dropped unnoticed: it is listed as ignored, with a "did you mean" when its header is close
to a known name. The result is a ``ColumnPlan``; a mapping that cannot work raises
``LeadImportError`` before any row is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nurture.leads.fields import IMPORTABLE_FIELDS
from nurture.leads.header_synonyms import did_you_mean, normalise, target_for_header

# What happens to columns that are not lead fields: dropped, or kept as custom attributes.
EXTRA_COLUMN_MODES = ("ignore", "attributes")
# Columns the rejects file adds; a corrected rejects file can be imported as it is.
LINE_COLUMN = "_line"
REASON_COLUMN = "_reason"
# ``--map "Notes=-"`` drops a column on purpose (it is then not reported as ignored).
IGNORE_TARGET = "-"
_ATTRIBUTE_PREFIX = "attributes."
_ATTRIBUTE_KEY_MAX = 64


class LeadImportError(Exception):
    """The import cannot start: the file cannot be read, or the column mapping is wrong."""


def normalise_header(header: str) -> str:
    """``"E-mail Address "`` → ``"e_mail_address"``, ``"Kod rabatowy (zł)"`` →
    ``"kod_rabatowy_zl"``: the name a column gets as a custom attribute."""
    return normalise(header).replace(" ", "_")


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
    # Ignored column -> the field its header is close to ("did you mean").
    hints: dict[str, str] = field(default_factory=dict)

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
        guess = target_for_header(name)
        if guess is not None and guess.startswith(_ATTRIBUTE_PREFIX):
            # A column the synonyms keep as an attribute (a city: no lead field holds it).
            key = guess.removeprefix(_ATTRIBUTE_PREFIX)
            if key in attributes.values():
                notes.append(
                    f"column {name!r} also looks like attribute {key!r}; column "
                    f"{header[_key_index(attributes, key)]!r} is used (choose with --map)"
                )
                unmapped.append(index)
            else:
                attributes[index] = key
        elif guess is None:
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

    ignored: list[str] = []
    hints: dict[str, str] = {}
    for index in unmapped:
        name = header[index]
        key = normalise_header(name)
        if extra_columns == "attributes" and key:
            if len(key) > 64:
                raise LeadImportError(f"column {name!r} is too long to be an attribute name")
            if key in attributes.values():
                raise LeadImportError(f"two columns become attribute {key!r}; name one with --map")
            attributes[index] = key
            continue
        label = name or f"(unnamed column {index + 1})"
        ignored.append(label)
        close = did_you_mean(name)
        if close is not None and close[1] not in taken and close[1] not in _targets(attributes):
            hints[label] = close[1]

    if "email" not in taken:
        raise LeadImportError(
            "no email column: name one with --map 'Column name=email' (columns are: "
            + ", ".join(repr(h) for h in header)
            + ")"
        )
    plan = ColumnPlan(header, fields=fields, attributes=attributes, ignored=ignored, hints=hints)
    return plan, notes


def _key_index(attributes: Mapping[int, str], key: str) -> int:
    return next(index for index, name in attributes.items() if name == key)


def _targets(attributes: Mapping[int, str]) -> set[str]:
    return {f"{_ATTRIBUTE_PREFIX}{key}" for key in attributes.values()}


def describe_ignored(plan: ColumnPlan) -> list[str]:
    """The ignored columns as the summary lists them: ``'Imie nazwisko'`` or
    ``'Emial' (did you mean email?)``."""
    return [
        f"{name!r} (did you mean {plan.hints[name]}?)" if name in plan.hints else repr(name)
        for name in plan.ignored
    ]
