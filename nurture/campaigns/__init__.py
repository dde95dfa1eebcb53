"""Campaigns: stage-aware drip campaigns written as files, and the leads enrolled in them.

- ``spec``: what a campaign means once parsed (frozen values).
- ``vocabulary``, ``parser``, ``tracks``, ``conditions``, ``describe``: the campaign file's
  grammar, with file:line problems; ``loader``: a file into a spec; ``validator``: checks
  against the templates and the other files; ``editing``: enrolments across an edit.
- ``sync``: files into the database, one version per valid edit; ``services``: the use
  cases the CLI, API and worker share (sync the folder, enrol by email, the watcher).
- ``enrolment``: putting leads into campaigns and reacting when a lead changes;
  ``triggers``: the subscriptions to the lead events that enrol or move them.
- ``drip`` and ``schedule``: the pure rules of one enrolment's next move and of time
  (windows, waits, caps in the lead's timezone); ``facts``: what they need, in batches.
"""

from nurture.campaigns.enrolment import EnrolmentOutcome, enrol_lead, lead_changed
from nurture.campaigns.loader import load_campaign_file, load_campaign_text
from nurture.campaigns.services import CampaignWatcher, enrol_by_email, sync_campaign_files
from nurture.campaigns.spec import Campaign
from nurture.campaigns.sync import active_campaigns, sync_campaigns

__all__ = [
    "Campaign",
    "CampaignWatcher",
    "EnrolmentOutcome",
    "active_campaigns",
    "enrol_by_email",
    "enrol_lead",
    "lead_changed",
    "load_campaign_file",
    "load_campaign_text",
    "sync_campaign_files",
    "sync_campaigns",
]
