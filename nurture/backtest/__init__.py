"""Backtesting a readiness model on history (docs/backtest.md).

- ``history``: the pure values of a history (leads, their events, facts and outcomes)
  and the history file both sources write and the backtest reads.
- ``csv_history``: a history from CSV files (leads with outcomes, events), with a column
  mapping like the lead import's; bad rows rejected with ``file:line``.
- ``instance``: the instance's own leads whose outcome is known, as a history.
- ``replay``: pure — one lead's facts at a moment (``facts_at``) and when the readiness
  rule would first have handed it over (``replay``), through the real scoring, ICP and
  readiness rules, knowing only what had happened by then.
- ``report``: pure — the figures of a backtest (per month, precision, recall, lift, days
  to conversion, the converters missed and why).
- ``warnings``: pure — facts that leak the outcome (``leakage_warnings``) and criteria or
  facts about protected characteristics (``protected_warnings``), as ``Finding`` values;
  ``facts_used`` (in ``findings``, with ``Finding``) says where the files read each fact.
  The names it looks for are in ``protected_names.yaml`` (read by ``protected``).
"""

from nurture.backtest.csv_history import CsvHistory, HistoryImportError, read_csv_history
from nurture.backtest.findings import Finding, facts_used
from nurture.backtest.history import (
    History,
    HistoryFileError,
    HistoryLead,
    Outcome,
    read_history,
    write_history,
)
from nurture.backtest.instance import InstanceHistory, read_instance_history
from nurture.backtest.replay import Model, Replay, facts_at, replay
from nurture.backtest.report import Backtest, Window, backtest, summarise
from nurture.backtest.warnings import field_names, leakage_warnings, protected_warnings

__all__ = [
    "Backtest",
    "CsvHistory",
    "Finding",
    "History",
    "HistoryFileError",
    "HistoryImportError",
    "HistoryLead",
    "InstanceHistory",
    "Model",
    "Outcome",
    "Replay",
    "Window",
    "backtest",
    "facts_at",
    "facts_used",
    "field_names",
    "leakage_warnings",
    "protected_warnings",
    "read_csv_history",
    "read_history",
    "read_instance_history",
    "replay",
    "summarise",
    "write_history",
]
