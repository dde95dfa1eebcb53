"""Bounce classification rules: status code and server text → reason → decision."""

import pytest

from nurture.sending.bounces.rules import (
    COMPLAINT,
    IGNORE,
    RETRY,
    SENDER_ISSUE,
    SUPPRESS,
    classify,
    decide,
)


@pytest.mark.parametrize(
    ("status", "reply", "text", "reason", "decision"),
    [
        ("5.1.1", "550", "550 5.1.1 <a@b.example>: Recipient rejected", "userunknown", SUPPRESS),
        ("5.2.2", "552", "552 5.2.2 Mailbox full", "mailboxfull", RETRY),
        # A specific code wins over looser text ("unavailable" reads as unknown user).
        ("5.2.2", "550", "550 mailbox unavailable", "mailboxfull", RETRY),
        ("", "", "Host or domain name not found", "hostunknown", SUPPRESS),
        ("5.7.1", "554", "Client host blocked using zen.spamhaus.org", "blocked", SENDER_ISSUE),
        ("5.7.26", "550", "550 5.7.26 Unauthenticated email", "authfailure", SENDER_ISSUE),
        ("5.7.25", "550", "550 5.7.25 no PTR record", "requireptr", SENDER_ISSUE),
        ("4.4.7", "", "Message expired: retry timeout exceeded", "expired", RETRY),
        ("5.1.8", "553", "553 5.1.8 sender domain does not exist", "rejected", SENDER_ISSUE),
        ("5.7.1", "550", "550 5.7.1 Message rejected as spam", "spamdetected", SENDER_ISSUE),
        ("5.3.4", "552", "552 5.3.4 Message size exceeds fixed limit", "mesgtoobig", SENDER_ISSUE),
        ("5.2.1", "550", "550 5.2.1 The account is disabled", "suspend", RETRY),
    ],
)  # fmt: skip
def test_status_and_text_give_the_expected_reason_and_decision(
    status, reply, text, reason, decision
):
    verdict = classify(status, reply, text)
    assert (verdict.reason, verdict.decision) == (reason, decision)
    assert verdict.human


def test_a_temporary_user_unknown_is_retried_not_suppressed():
    verdict = classify("4.1.1", "450", "450 4.1.1 user unknown")
    assert verdict.reason == "userunknown"
    assert verdict.decision == RETRY


def test_user_unknown_after_data_is_a_filter_not_a_missing_mailbox():
    # The server accepted the recipient at RCPT; only the content was refused.
    verdict = classify("5.0.0", "550", "550 Unknown user a@b.example", command="DATA")
    assert verdict.reason == "filtered"
    assert verdict.decision == RETRY


def test_a_specific_user_unknown_code_stays_a_hard_bounce_even_after_data():
    assert classify("5.1.1", "550", "550 5.1.1 User unknown", command="DATA").decision == SUPPRESS


def test_a_refused_mail_from_is_a_sender_issue():
    verdict = classify("5.0.0", "550", "550 Unknown user", command="MAIL")
    assert verdict.decision == SENDER_ISSUE


def test_no_evidence_at_all_is_retried_never_suppressed():
    verdict = classify("", "", "")
    assert verdict.decision == RETRY


@pytest.mark.parametrize(
    ("reason", "decision"),
    [
        ("feedback", COMPLAINT),
        ("vacation", IGNORE),
        ("delivered", IGNORE),
        ("blocked", SENDER_ISSUE),
    ],
)
def test_non_bounce_reasons_map_to_their_decisions(reason, decision):
    assert decide(reason) == decision
