"""Typed SQLAlchemy 2.0 models. Import from here: ``from nurture.models import Lead``."""

from nurture.models.account import Account
from nurture.models.apikey import ApiKey
from nurture.models.bounce import BounceReceipt
from nurture.models.brand import BRAND_ROW_ID, BrandSettings
from nurture.models.campaign import Campaign, CampaignVersion
from nurture.models.clock import CLOCK_ROW_ID, SimulatedClock
from nurture.models.cost import Cost, CostFileVersion
from nurture.models.enrollment import Enrollment, EnrollmentHistory
from nurture.models.event import Event
from nurture.models.hand_raise import HandRaise
from nurture.models.handoff import Handoff, HandoffAction, SalesRep, SalesTeamVersion
from nurture.models.import_job import ImportJob, ImportReject
from nurture.models.lead import Lead
from nurture.models.lead_row import AccountRow, LeadRow, load_lead_rows
from nurture.models.lifecycle import StageChange
from nurture.models.message import Message, OutboxMessage
from nurture.models.preview import EmailPreview
from nurture.models.privacy import AuditLog, Suppression
from nurture.models.qualification import QualificationVersion
from nurture.models.revenue import RevenueEntry
from nurture.models.rollup import (
    CampaignEmailDay,
    CampaignEntry,
    CampaignGroupDay,
    CampaignRecipientDay,
    EmailRollupQueue,
    EmailRollupState,
    LeadFirstTouch,
    LeadStageFirst,
    RolledUpEmail,
    RolledUpLead,
    StageEntry,
)
from nurture.models.scoring import LeadScoreState, ScoringVersion
from nurture.models.sla import HandoffSla
from nurture.models.tracking import TrackingHit, Visitor
from nurture.models.user import ReportDigest, User
from nurture.models.webhook import WebhookDelivery
from nurture.platform.db import Base

__all__ = [
    "BRAND_ROW_ID",
    "CLOCK_ROW_ID",
    "Account",
    "AccountRow",
    "ApiKey",
    "AuditLog",
    "Base",
    "BounceReceipt",
    "BrandSettings",
    "Campaign",
    "CampaignEmailDay",
    "CampaignEntry",
    "CampaignGroupDay",
    "CampaignRecipientDay",
    "CampaignVersion",
    "Cost",
    "CostFileVersion",
    "EmailPreview",
    "EmailRollupQueue",
    "EmailRollupState",
    "Enrollment",
    "EnrollmentHistory",
    "Event",
    "HandRaise",
    "Handoff",
    "HandoffAction",
    "HandoffSla",
    "ImportJob",
    "ImportReject",
    "Lead",
    "LeadFirstTouch",
    "LeadRow",
    "LeadScoreState",
    "LeadStageFirst",
    "Message",
    "OutboxMessage",
    "QualificationVersion",
    "ReportDigest",
    "RevenueEntry",
    "RolledUpEmail",
    "RolledUpLead",
    "SalesRep",
    "SalesTeamVersion",
    "ScoringVersion",
    "SimulatedClock",
    "StageChange",
    "StageEntry",
    "Suppression",
    "TrackingHit",
    "User",
    "Visitor",
    "WebhookDelivery",
    "load_lead_rows",
]
