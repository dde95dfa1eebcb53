"""The files marketers edit (campaigns, scoring model, ICP, readiness, sales team): how they
are read, checked and versioned, whatever their kind.

- ``yaml_lines``: YAML that remembers the line of every value; ``yaml_file``: reading a
  file into a mapping with its problems (``FileLoad``).
- ``problems``: ``Problem`` (file:line: message) and ``ProblemsError``.
- ``parser``: the base ``Parser`` with the field readers every kind's parser builds on;
  each kind brings its own vocabulary, and all share the check of event type names
  (``known_event_type``: unknown types get the closest known one).
- ``versions``: one immutable version per valid edit, one active; ``watch``: re-syncing a
  file when it changes on disk (``FileWatcher``).
"""

from nurture.files.problems import Problem, ProblemsError
from nurture.files.watch import FileWatcher
from nurture.files.yaml_file import FileLoad

__all__ = ["FileLoad", "FileWatcher", "Problem", "ProblemsError"]
