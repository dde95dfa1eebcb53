"""Bounce parsing rules by format, each on a small synthetic message: where MTAs put the
failed address, which code in a transcript is the failure, which report is ours when
reports nest, and messages that are not bounces but still mean something."""

from nurture.sending.bounces import classify_bytes
from nurture.sending.bounces.fields import find_reply_code, find_smtp_command, find_status


def _text_bounce(body: str, subject: str = "Mail delivery failed") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        "To: bounces@brightpath.example\n"
        f"Subject: {subject}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        f"{body}"
    ).encode()


def _outcomes(raw: bytes) -> list[tuple[str, str, str]]:
    report = classify_bytes(raw)
    return [(r.recipient, r.status, r.decision) for r in report.recipients]


def test_quoted_addresses_on_their_own_line_start_each_recipients_block():
    # GMX style: "\"a@b\":" then the reply lines; each status belongs to its own address.
    raw = _text_bounce(
        '"ann@one.example":\nSMTP error from remote server after RCPT command:\n'
        "5.1.1 <ann@one.example>... User Unknown\n"
        '"bob@two.example":\nSMTP error from remote server after RCPT command:\n'
        "5.2.2 <bob@two.example>... Mailbox Full\n"
    )
    assert _outcomes(raw) == [
        ("ann@one.example", "5.1.1", "suppress"),
        ("bob@two.example", "5.2.2", "retry"),
    ]


def test_a_list_repeated_in_a_second_language_does_not_run_one_block_into_another():
    block = (
        "ann@one.example\n  SMTP error after RCPT TO:<ann@one.example>: 550 5.2.2 Mailbox Full\n"
        "bob@two.example\n  SMTP error after RCPT TO:<bob@two.example>: 550 5.1.1 User Unknown\n"
    )
    raw = _text_bounce(f"Сообщение не доставлено.\n{block}\n*****\nNot delivered:\n{block}")
    assert _outcomes(raw) == [
        ("ann@one.example", "5.2.2", "retry"),
        ("bob@two.example", "5.1.1", "suppress"),
    ]


def test_sendmail_transcript_lines_name_each_failed_recipient():
    raw = _text_bounce(
        "----- Transcript of session follows -----\n"
        "550 one.example (smtp)... 550 Host unknown\n"
        "554 <ann@one.example>... 550 Host unknown (Authoritative answer from name server)\n"
        "550 two.example (smtp)... 550 Host unknown\n"
        "554 <bob@two.example>... 550 Host unknown (Authoritative answer from name server)\n",
        subject="Returned mail: Host unknown",
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [
        ("ann@one.example", "suppress"),
        ("bob@two.example", "suppress"),
    ]


def test_exchange_lists_each_recipient_with_the_time_it_failed():
    raw = _text_bounce(
        "Your message did not reach the following recipient(s):\n\n"
        "ann@one.example on Thu, 29 Apr 2007 16:51:51 -0500\n"
        "    The recipient name is not recognized\n"
        "bob@two.example on Thu, 29 Apr 2007 16:51:51 -0500\n"
        "    The recipient name is not recognized\n",
        subject="Undeliverable: hello",
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [
        ("ann@one.example", "suppress"),
        ("bob@two.example", "suppress"),
    ]


def test_an_address_glued_to_a_word_is_not_split_into_a_second_recipient():
    # "<mailboxfull@…>" once read as "mailbox" + "full@…", a recipient that never was.
    raw = _text_bounce(
        "There was an error delivering your mail to <userunknown@one.example>.\n\n"
        "mx.one.example did not like our RCPT TO:\n"
        "550 5.1.1 <userunknown@one.example>: Recipient address rejected: User unknown\n"
    )
    assert _outcomes(raw) == [("userunknown@one.example", "5.1.1", "suppress")]


def test_a_rcpt_to_without_angle_brackets_names_the_recipient():
    raw = _text_bounce(
        "Error: Invalid user address\nError message below:\n"
        "550 - Requested action not taken: no such user here\n\n"
        "Message details:\n  MAIL FROM: me@brightpath.example\n  RCPT TO: ann@one.example\n",
        subject="Re: hello",
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [("ann@one.example", "suppress")]


def test_in_a_session_transcript_the_failure_code_is_not_a_success_code():
    transcript = "Out: 250 2.1.0 Ok\nIn: RCPT TO:<ann@one.example>\nOut: 250 2.1.5 Ok\n"
    transcript += "In: DATA\nOut: 451 4.3.0 Error: queue file write error\n"
    assert find_status(transcript) == "4.3.0"
    assert find_reply_code(transcript) == "451"
    raw = _text_bounce(f"Transcript of session follows.\n{transcript}")
    assert _outcomes(raw) == [("ann@one.example", "4.3.0", "retry")]


def test_pipelined_rcpt_replies_after_data_are_still_rcpt_refusals():
    # With PIPELINING the RCPT reply is read after DATA was sent; "no valid recipients"
    # as the DATA reply shows the 550 before it refused the recipient.
    transcript = (
        ">>> DATA\n<<< 550 5.5.0 Invalid recipient.\n<<< 554 5.5.1 Error: no valid recipients\n"
    )
    assert find_smtp_command(transcript) == "RCPT"
    assert find_smtp_command(">>> DATA\n<<< 550 5.7.1 Unknown user\n") == "DATA"


def _dsn(human: str, fields: str, tail: str = "") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@brightpath.example\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="OUT"\n\n'
        f"--OUT\nContent-Type: text/plain\n\n{human}\n"
        f"--OUT\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        f"{fields}\n{tail}--OUT--\n"
    ).encode()


def test_a_bounce_of_a_bounce_reports_only_its_own_recipient():
    inner = (
        'Content-Type: multipart/report; report-type=delivery-status; boundary="IN"\n\n'
        "--IN\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; other.example\n\n"
        "Final-Recipient: rfc822; bob@two.example\nAction: failed\nStatus: 5.1.1\n\n--IN--\n"
    )
    raw = _dsn(
        "Delivery failed.",
        "Final-Recipient: rfc822; ann@one.example\nAction: failed\nStatus: 5.7.1\n"
        "Diagnostic-Code: smtp; 550 5.7.1 message content rejected\n",
        f"--OUT\nContent-Type: message/rfc822\n\nFrom: a@b.example\n{inner}",
    )
    assert [a for a, _, _ in _outcomes(raw)] == ["ann@one.example"]


def test_a_relay_notice_without_a_reason_is_read_from_the_report_it_attaches():
    inner = (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example>\n"
        "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="IN"\n\n'
        "--IN\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example\n\n"
        "Final-Recipient: rfc822; ann@one.example\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--IN--\n"
    )
    raw = (
        "From: MAILER-DAEMON@gw.example\nTo: bounces@brightpath.example\n"
        "Subject: Returned mail: User unknown\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="OUT"\n\n'
        "--OUT\nContent-Type: text/plain\n\n"
        "----- The following addresses had permanent delivery errors -----\n"
        "ann@one.example\n\n"
        f"--OUT\nContent-Type: message/rfc822\n\n{inner}\n--OUT--\n"
    ).encode()
    assert _outcomes(raw) == [("ann@one.example", "5.1.1", "suppress")]


def test_when_the_queue_gave_up_the_remote_servers_own_code_is_reported():
    # 4.4.7 is the reporting MTA's verdict; the reply quoted beside it says why.
    assert find_status("554 4.4.7 Message expired <421 4.4.2 Connection timed out>") == "4.4.2"
    raw = _dsn(
        "ann@one.example\nRemote Server returned '441 4.4.1 Failed to connect'\n",
        "Final-Recipient: rfc822; ann@one.example\nAction: failed\nStatus: 4.4.7\n"
        "Diagnostic-Code: smtp; 550 4.4.7 QUEUE.Expired; message expired\n",
    )
    assert _outcomes(raw) == [("ann@one.example", "4.4.1", "retry")]


def test_a_programs_exit_status_is_not_an_smtp_reply_code():
    raw = _dsn(
        "554 5.3.0 unknown mailer error 255\n",
        "Final-Recipient: rfc822; ann@one.example\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: X-Unix; 255\n",
    )
    report = classify_bytes(raw)
    [failed] = report.recipients
    # "255" is not taken for a 2xx reply; the human report supplies the real reply.
    assert (failed.status, failed.reply_code, failed.reason_code) == (
        "5.3.0",
        "554",
        "mailererror",
    )


def test_each_dsn_recipient_takes_only_its_own_lines_of_the_human_report():
    raw = _dsn(
        "ann@one.example: 550 5.1.1 <ann@one.example>: Recipient address rejected: "
        "User unknown\nbob@two.example: 552 5.2.2 <bob@two.example>: Recipient address "
        "rejected: Mailbox full\n",
        "Final-Recipient: rfc822; ann@one.example\nAction: failed\nStatus: 5.0.0\n\n"
        "Final-Recipient: rfc822; bob@two.example\nAction: failed\nStatus: 5.0.0\n",
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [
        ("ann@one.example", "suppress"),
        ("bob@two.example", "retry"),
    ]


def test_a_delay_notice_quoting_a_missing_mailbox_is_retried():
    raw = _text_bounce(
        "    **********************************************\n"
        "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
        "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
        "    **********************************************\n\n"
        "<ann@one.example>... 550 5.1.1 User unknown\n",
        subject="Warning: could not send message for past 4 hours",
    )
    assert _outcomes(raw) == [("ann@one.example", "5.1.1", "retry")]


def test_the_original_after_a_mailing_list_notice_is_not_read_as_the_report():
    raw = _text_bounce(
        "Duplicated Message-ID in <ann@one.example>.\n\nOriginal mail as follows:\n"
        "   Received: from mx.two.example (using TLSv1.2 with cipher AES256)\n"
        "   To: bob@two.example\n   Content-Type: text/plain\n",
        subject="Loop Alert: Duplicated Message-ID",
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [("ann@one.example", "retry")]


def test_a_one_click_unsubscribe_by_email_is_an_opt_out_complaint():
    raw = (
        b"From: ann@one.example\nTo: unsubscribe-123@brightpath.example\n"
        b"Subject: unsubscribe\nAuto-Submitted: auto-replied\nX-Apple-Unsubscribe: true\n\n"
        b"Apple Mail sent this email to unsubscribe from the message.\n"
    )
    report = classify_bytes(raw)
    assert (report.kind, report.feedback_type) == ("arf", "opt-out")
    assert [(r.recipient, r.decision) for r in report.recipients] == [
        ("ann@one.example", "complaint")
    ]


def test_a_multipart_that_lost_its_boundary_is_still_read_as_text():
    # The boundary parameter sits on an unindented line, so it is not part of the header.
    raw = (
        b"From: post_master@one.example\nTo: me@brightpath.example\nSubject: Re: hello\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
        b'--B\nContent-Type: multipart/alternative;\nboundary="A"\n\n--A\n'
        b"Content-Type: text/plain\n\nError: Invalid user address\n"
        b"550 - Requested action not taken: no such user here\n  RCPT TO: ann@one.example\n"
        b"--A--\n--B--\n"
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [("ann@one.example", "suppress")]


def test_a_text_part_whose_content_type_lost_its_semicolon_is_still_read():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\nTo: me@brightpath.example\n"
        b"Subject: Returned Mail: User unknown\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n'
        b'--B\nContent-Type: text/plain\n   charset="iso-2022-jp"\n\n'
        b"---The following addresses had delivery errors---\n\n"
        b"ann@one.example [User unknown]\n\n--B--\n"
    )
    assert [(a, d) for a, _, d in _outcomes(raw)] == [("ann@one.example", "suppress")]
