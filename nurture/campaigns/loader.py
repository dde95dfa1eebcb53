"""Reading campaign files: YAML text in, a :class:`nurture.campaigns.spec.Campaign` out, and every
problem found on the way, each with the file and line it belongs to.

The loader is pure apart from reading the file: it knows nothing of templates (the validator
checks those) or the database (``nurture.campaigns.sync`` stores versions). It never stops at
the first problem, because a marketer fixing a file wants the whole list at once.

This module is the public face: ``nurture.files.yaml_lines`` reads YAML keeping every line
number (and reads ``10:00``, ``NO`` and dates as the text they look like), and
``nurture.campaigns.parser`` turns the data into schema objects and problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from nurture.campaigns.describe import describe as describe
from nurture.campaigns.parser import CampaignError as CampaignError
from nurture.campaigns.parser import CampaignParser
from nurture.campaigns.spec import Campaign
from nurture.files.parser import KEY_RE
from nurture.files.problems import Problem as Problem
from nurture.files.yaml_file import (
    FileLoad,
    detailed_yaml_error,
    merge_problems,
    read_file,
    read_yaml_mapping,
)
from nurture.files.yaml_file import checksum as checksum
from nurture.files.yaml_lines import line_of, to_plain
from nurture.platform.event_types import ANY_CUSTOM, EventCatalogue


@dataclass(frozen=True)
class LoadResult(FileLoad[Campaign]):
    """What loading one file gave: the campaign when it is valid, and every problem.

    ``data`` is the plain YAML data (dicts, lists, text, numbers) when the text parsed as
    YAML at all, valid or not: it is what a stored version keeps as its spec, and it lets
    the sync name the campaign of an invalid file. ``id_line`` is the line of ``id:``.
    """

    id_line: int = 0

    @property
    def campaign(self) -> Campaign | None:
        """The campaign (``value``) when the file is valid."""
        return self.value

    @property
    def key(self) -> str | None:
        """The campaign id written in the file, even when the file has problems."""
        if self.campaign is not None:
            return self.campaign.id
        raw = (self.data or {}).get("id")
        return raw if isinstance(raw, str) and KEY_RE.match(raw) else None


# ---------------------------------------------------------------- public entry points


# How many parsed campaign files are kept (by name and text); many times a folder's size.
LOADS_KEPT = 512


def load_campaign_file(path: str | Path, *, catalogue: EventCatalogue = ANY_CUSTOM) -> LoadResult:
    """Read and parse one campaign file; unreadable files are reported as problems.

    Parsing is a pure function of the name and the text, and the editor's pages read the
    whole folder on every request: a file whose text was parsed before (under the same
    name) gives the same result, kept in-process. An edited file has a new text, so it is
    parsed again; the results are frozen, so sharing them is safe. ``catalogue``: the event
    types the file may name (``nurture.files.event_catalogue``)."""
    return read_file(path, lambda text, name: _load_saved_text(text, name, catalogue), LoadResult)


@lru_cache(maxsize=LOADS_KEPT)
def _load_saved_text(text: str, name: str, catalogue: EventCatalogue) -> LoadResult:
    return load_campaign_text(text, name, catalogue=catalogue)


def load_campaign_text(
    text: str, path: str | Path = "<campaign>", *, catalogue: EventCatalogue = ANY_CUSTOM
) -> LoadResult:
    """Parse campaign YAML ``text`` (``path`` names it in problems); ``catalogue``: the
    event types it may name."""
    name = str(path)
    digest = checksum(text)
    # Campaign files are the most edited, so their YAML errors also name the construct
    # being read and its first line; "would win" is their wording since the first release.
    read = read_yaml_mapping(
        text,
        name,
        "a campaign file must be a mapping of fields (id, name, entry, tracks, …)",
        describe_error=detailed_yaml_error,
        later_key="the later one would win",
    )
    if read.data is None:
        return LoadResult(name, None, read.problems, digest, text)
    data = read.data
    parser = CampaignParser(name, catalogue=catalogue)
    campaign = parser.campaign(data, source_path=name, checksum=digest)
    problems = merge_problems(read.problems, parser.problems)
    return LoadResult(
        name,
        campaign if not problems else None,
        problems,
        digest,
        text,
        to_plain(data),
        line_of(data, "id", 1),
    )


def parse_campaign_data(
    data: Mapping[str, Any], source_path: str | None = None, *, checksum: str = ""
) -> Campaign:
    """Build a Campaign from plain data (a stored version's spec); lines are 0.

    Raises :class:`CampaignError` listing every problem when the data is not valid.
    """
    parser = CampaignParser(source_path or "<spec>")
    if not isinstance(data, Mapping):
        raise CampaignError([Problem(parser.path, 0, "a campaign spec must be a mapping")])
    campaign = parser.campaign(data, source_path=source_path, checksum=checksum)
    if parser.problems or campaign is None:
        raise CampaignError(parser.problems)
    return campaign
