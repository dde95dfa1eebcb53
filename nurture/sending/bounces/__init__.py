"""Bounces and complaints: parse DSNs, ARF reports and free-text bounces, classify each
failed recipient, and (in ``apply``) act on the decisions."""

from nurture.sending.bounces.classify import BounceReport, FailedRecipient, classify_bytes

__all__ = ["BounceReport", "FailedRecipient", "classify_bytes"]
