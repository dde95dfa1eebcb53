"""Marketing costs (docs/costs.md): the costs file and the entries made in the app, and
the reports that set them against the leads — volume, and cost per lead, MQL and customer.

- ``entries``: a cost entry's fields checked, whole months shared pro rata by days, and the
  cost-per formulas (pure);
- ``parser``: the costs file, every problem at its line (pure);
- ``sync``: the file into versions and ``costs`` rows, and its watcher;
- ``store``: the entries of the app and the API (list, put, delete);
- ``volume``: new leads per day, week or month;
- ``spread``: how the entries' costs are spread over a report's groups (pure);
- ``report``: cost, leads, MQLs and customers per group, and the cost per each (the
  costs alone, ``spread_in_period``, for ROI).
"""

from __future__ import annotations

from nurture.analytics.costs.entries import CostEntry, CostFieldError
from nurture.analytics.costs.report import (
    CostReport,
    CostRow,
    cost_report,
    cost_table,
    spread_in_period,
)
from nurture.analytics.costs.store import (
    CostConflict,
    StoredCost,
    delete_cost,
    list_costs,
    put_cost,
)
from nurture.analytics.costs.sync import CostsSyncReport, CostsWatcher, sync_costs_file
from nurture.analytics.costs.volume import (
    INTERVALS,
    VolumeReport,
    VolumeRow,
    volume_report,
    volume_table,
)

__all__ = [
    "INTERVALS",
    "CostConflict",
    "CostEntry",
    "CostFieldError",
    "CostReport",
    "CostRow",
    "CostsSyncReport",
    "CostsWatcher",
    "StoredCost",
    "VolumeReport",
    "VolumeRow",
    "cost_report",
    "cost_table",
    "delete_cost",
    "list_costs",
    "put_cost",
    "spread_in_period",
    "sync_costs_file",
    "volume_report",
    "volume_table",
]
