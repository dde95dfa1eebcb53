"""Leads: the people being nurtured, and how they come in and move through the lifecycle.

- ``fields``: the one catalogue of lead fields (what may be imported, defaulted, erased,
  compared by campaign conditions); ``stages``: the lifecycle stages.
- ``validation``: incoming data checked and normalised (pure); ``accounts``: matching a lead
  to its company's account.
- ``service``: creating and updating leads (``upsert_leads``), consent audit, and the
  ``leads_created`` / ``leads_data_changed`` events; ``queries``: finding and listing leads.
- ``csv_import`` (with ``csv_columns``, ``csv_rows``): CSV files with header mapping,
  rejects with reasons, and a progress bar.
- ``lifecycle``: the allowed stage moves and the use case that makes one.
"""

from nurture.leads.csv_import import import_leads_csv
from nurture.leads.import_summary import ImportSummary
from nurture.leads.lifecycle import StageError, change_stage, stage_history
from nurture.leads.queries import get_lead, list_leads
from nurture.leads.service import UpsertResult, upsert_lead, upsert_leads
from nurture.leads.stages import LIFECYCLE_STAGES, SALES_STAGES
from nurture.leads.validation import LeadFields, validate_lead_data

__all__ = [
    "LIFECYCLE_STAGES",
    "SALES_STAGES",
    "ImportSummary",
    "LeadFields",
    "StageError",
    "UpsertResult",
    "change_stage",
    "get_lead",
    "import_leads_csv",
    "list_leads",
    "stage_history",
    "upsert_lead",
    "upsert_leads",
    "validate_lead_data",
]
