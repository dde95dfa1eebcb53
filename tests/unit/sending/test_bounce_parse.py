"""Bounce parsing over representative real messages of the shared corpus (referenced in
place, not copied) and over small synthetic messages."""

from pathlib import Path

import pytest

from nurture.sending.bounces import classify_bytes
from nurture.sending.bounces.fields import (
    field_blocks,
    find_reply_code,
    find_status,
    normalise_address,
)

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "bounces" / "messages"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"bounce corpus not at {CORPUS}")


def classify_file(name):
    return classify_bytes((CORPUS / name).read_bytes())


@needs_corpus
@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        # RFC 3464 DSN from Postfix, two recipients.
        ("lhost-postfix-02.eml", "dsn", [("5.2.1", "suppress"), ("5.1.1", "suppress")]),
        # Exim free text, two-part structure, status only in the text.
        ("lhost-exim-01.eml", "text", [("5.7.0", "sender_issue")]),
        # qmail: "<a@b>:" then the remote server's reply.
        ("lhost-qmail-24.eml", "text", [("5.2.2", "retry")]),
        # Office 365 human-readable report with its own 5.1.10 code.
        ("lhost-office365-01.eml", "text", [("5.1.10", "suppress")]),
        # ARF abuse report listing seven complainants.
        ("arf-16.eml", "arf", [("", "complaint")] * 7),
        # Microsoft JMRP complaint (not ARF): the original carries the complainant.
        ("arf-23.eml", "arf", [("", "complaint")]),
        # RFC 3834 automatic reply: not a bounce.
        ("rfc3834-02.eml", "autoreply", [("", "ignore")]),
        # Amazon SES notification forwarded as JSON.
        ("lhost-amazonses-09.eml", "dsn", [("5.1.1", "suppress")]),
    ],
)  # fmt: skip
def test_representative_corpus_messages(name, kind, expected):
    report = classify_file(name)
    assert report.kind == kind
    assert [(r.status, r.decision) for r in report.recipients] == expected
    assert all(r.reason for r in report.recipients)


@needs_corpus
def test_a_two_recipient_qmail_bounce_gives_each_its_own_status():
    report = classify_file("lhost-qmail-25.eml")
    assert sorted((r.status, r.decision) for r in report.recipients) == [
        ("5.1.1", "suppress"),
        ("5.2.2", "retry"),
    ]


def test_a_dsn_quoting_our_headers_yields_the_token_and_message_id():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@brightpath.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@mx.example.net>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; "
        b'report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; Ada@Example.COM\r\nAction: failed\r\nStatus: 5.0.0\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <ada@example.com>: Recipient address rejected:\r\n"
        b" User unknown in virtual mailbox table\r\n\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <m1@brightpath.example>\r\n"
        b"X-Nurture-Message: 0123456789abcdef0123456789abcdef\r\n"
        b"To: ada@example.com\r\n\r\n--B--\r\n"
    )
    report = classify_bytes(raw)
    assert report.kind == "dsn"
    [failed] = report.recipients
    # The diagnostic's specific code beats the generic Status; the domain is lower-cased.
    assert (failed.recipient, failed.status, failed.reply_code) == (
        "Ada@example.com",
        "5.1.1",
        "550",
    )
    assert failed.decision == "suppress"
    assert "does not exist" in failed.reason
    assert report.original_message_id == "m1@brightpath.example"
    assert report.nurture_token == "0123456789abcdef0123456789abcdef"
    assert report.bounce_message_id == "b1@mx.example.net"


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \n", b"\x00\x01\x02 binary garbage"],
)
def test_malformed_input_gives_an_error_not_an_exception(raw):
    report = classify_bytes(raw)
    assert report.recipients == []
    assert report.error


def test_an_ordinary_email_is_not_taken_for_a_bounce():
    raw = b"From: ann@example.org\nTo: bob@example.com\nSubject: lunch?\n\nSee you at noon.\n"
    report = classify_bytes(raw)
    assert report.recipients == []
    assert report.kind == "unknown"


def test_codes_are_found_in_text_but_not_in_ip_addresses():
    assert find_status("host 10.5.1.1 said: 550 5.1.1 unknown") == "5.1.1"
    assert find_status("connect to 192.0.2.5.1 failed") == ""
    assert find_reply_code("said: 552-5.2.2 over quota") == "552"
    assert find_reply_code("message of 550 bytes") == ""


def test_dsn_fields_unfold_and_addresses_normalise():
    [block] = field_blocks("Final-Recipient: rfc822;\n  <Someone@Example.ORG>\nStatus: 5.1.1")
    assert normalise_address(block["final-recipient"]) == "Someone@example.org"
