"""Authoring: the marketer's files edited as text (the web app's editor), with the same
checks, syncs and rendering as the command line.

- ``files``: which files may be edited and where they live (names checked, paths kept
  inside their folders), reading, fingerprints, atomic writes.
- ``checks``: an edited text checked as if saved, with the ``validate`` commands' messages
  placed on their file and line; ``workspace``: a template's unsaved text in a temporary
  copy of the templates folder, so the template library itself checks and renders it.
- ``saving``: refuse a text with problems or a file changed on disk since it was opened;
  otherwise write it and sync a new version, with an audit row naming the file.
- ``preview``: an email rendered for the sample lead or a real one (preview URLs, never the
  lead's tokens), kept an hour for its author, and test-sent to the author's own address.
- ``catalogue``: every editable file and its state on disk.

It sits above qualification (it syncs every kind of file) and below the reports and edges
that use it.
"""

from nurture.authoring.checks import CheckResult, Finding
from nurture.authoring.files import CAMPAIGN, CONFIG_KINDS, TEMPLATE, TEMPLATE_PARTS, BadName
from nurture.authoring.preview import PreviewError, PreviewRequest, make_preview, send_test
from nurture.authoring.saving import Conflict, Refused, Saved

__all__ = [
    "CAMPAIGN",
    "CONFIG_KINDS",
    "TEMPLATE",
    "TEMPLATE_PARTS",
    "BadName",
    "CheckResult",
    "Conflict",
    "Finding",
    "PreviewError",
    "PreviewRequest",
    "Refused",
    "Saved",
    "make_preview",
    "send_test",
]
