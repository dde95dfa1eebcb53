"""Bounce and complaint reports as mailbox providers send them, quoting our headers."""

TOKEN = "0123456789abcdef0123456789abcdef"


def dsn(recipient, status, diagnostic, *, bounce_id="b1@mx.example.net", token=TOKEN):
    """A minimal RFC 3464 bounce quoting our original headers."""
    return (
        f"From: MAILER-DAEMON@mx.example.net\r\nTo: hello@brightpath.example\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <{bounce_id}>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
        'report-type=delivery-status; boundary="B"\r\n\r\n'
        f"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <m1@brightpath.example>\r\n"
        f"X-Nurture-Message: {token}\r\nTo: {recipient}\r\n\r\n--B--\r\n"
    ).encode()


def arf(bounce_id="c1@fbl.example.net", *, token=TOKEN):
    """An ARF complaint whose reporter redacted the complainant's address."""
    return (
        f"From: fbl@isp.example.net\r\nTo: abuse@brightpath.example\r\nSubject: complaint\r\n"
        f"Message-ID: <{bounce_id}>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        f"--F\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n"
        f"--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
        f"User-Agent: FBL/1.0\r\nVersion: 1\r\n\r\n"
        f"--F\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <m1@brightpath.example>\r\n"
        f"X-Nurture-Message: {token}\r\nTo: redacted@isp.example.net\r\n\r\n--F--\r\n"
    ).encode()
