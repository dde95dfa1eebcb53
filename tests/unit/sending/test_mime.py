"""MIME building: the bytes must mean exactly what the stdlib would have written."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from nurture.platform.config import PROJECT_ROOT
from nurture.rendering.library import TemplateLibrary, sample_context
from nurture.sending.mime import MessageBuilder, build_message, new_message_id

DATE = datetime(2025, 3, 4, 9, 30, 15, tzinfo=timezone(timedelta(hours=1)))
UNSUBSCRIBE = (
    "<https://nurture.example/u/eyJtIjoxMjM0NTY3ODkwfQ.Zx9-abcdefghijklmnopqrstuvwxyz>, "
    "<mailto:unsubscribe@brightpath.example?subject=unsubscribe-1234567890>"
)
HEADERS = {"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}

TRICKY_TEXT = (
    "Grüße, Dana! Ünïcödé, emoji 🚀, CJK 漢字, and = signs =3D.\n"
    "From the desk of our CEO: this line starts with From.\n"
    ".\n"
    ".a line starting with a dot\n"
    "a line with a trailing space \n"
    "a line with a trailing tab\t\n"
    "From " + "f" * 100 + "\n"
    "From "
    + "=" * 40
    + "é" * 20
    + "\n"
    + "q" * 75
    + "From the middle of a wrapped line\n"
    + "x" * 2000
    + "\n"
    + ("word " * 300).strip()
    + "\n"
    + "é" * 500
    + "\n\n"
    "--=_nurture_the_boundary_looks_like_this\n"
    "last line\n"
)
TRICKY_HTML = (
    '<p style="color:#000">Hello <b>Dana</b> &amp; team — naïve café</p>\n'
    "From here on, HTML.\n" + "<td>" + "y" * 1500 + "</td>\n" + "." + "\n"
)


def parse(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def body_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return part.get_content()


def lf(text: str) -> str:
    # On the wire every line ends in CRLF, so a parsed body has CRLF too (the stdlib's own
    # messages included); the text we meant has LF.
    return text.replace("\r\n", "\n")


def stdlib_bytes(**fields: object) -> bytes:
    """The same message built the slow, trusted way, in wire format (CRLF)."""
    message = EmailMessage()
    message["Date"] = fields["date"]
    message["From"] = fields["from_addr"]
    message["To"] = fields["to_addr"]
    message["Subject"] = fields["subject"]
    message["Message-ID"] = fields["message_id"]
    for name, value in dict(fields.get("headers") or {}).items():  # type: ignore[call-overload]
        message[name] = value
    message.set_content(fields["text"])
    message.add_alternative(fields["html"], subtype="html")
    return message.as_bytes(policy=policy.SMTP)


def fields(**changes: object) -> dict:
    base = {
        "from_addr": "Brightpath Analytics <hello@brightpath.example>",
        "to_addr": "Dana Whitfield <dana@northwind.example>",
        "subject": "Your revenue analytics starter guide",
        "html": TRICKY_HTML,
        "text": TRICKY_TEXT,
        "message_id": "<1a2b3c.d4e5f6@brightpath.example>",
        "date": DATE,
        "headers": HEADERS,
    }
    base.update(changes)
    return base


@pytest.fixture
def builder() -> MessageBuilder:
    return MessageBuilder()


def test_a_message_round_trips_through_the_stdlib_parser(builder: MessageBuilder) -> None:
    data = builder.build(**fields())
    message = parse(data)

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert lf(body_of(message, "plain")) == TRICKY_TEXT
    assert lf(body_of(message, "html")) == TRICKY_HTML
    assert message["MIME-Version"] == "1.0"
    assert message["From"] == "Brightpath Analytics <hello@brightpath.example>"
    assert message["To"] == "Dana Whitfield <dana@northwind.example>"
    assert message["Subject"] == "Your revenue analytics starter guide"
    assert message["Message-ID"] == "<1a2b3c.d4e5f6@brightpath.example>"
    assert message["List-Unsubscribe"] == UNSUBSCRIBE
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsedate_to_datetime(message["Date"]) == DATE
    assert message.defects == [] and all(p.defects == [] for p in message.iter_parts())


def test_the_stdlib_sees_the_same_message_it_would_have_built(builder: MessageBuilder) -> None:
    ours = parse(builder.build(**fields()))
    theirs = parse(stdlib_bytes(**fields()))
    for subtype in ("plain", "html"):
        # (The stdlib picks base64 or 8bit here, which keep its LF line ends on decoding.)
        assert lf(body_of(ours, subtype)) == lf(body_of(theirs, subtype))
    for name in ("Date", "From", "To", "Subject", "Message-ID", *HEADERS):
        assert str(ours[name]) == str(theirs[name]), name
    assert ours.get_content_type() == theirs.get_content_type()


@pytest.mark.parametrize("seed", range(12))
def test_random_text_survives_exactly(builder: MessageBuilder, seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab =.\t-From é漢🚀\n\n<>&\"'_?"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000)))
    if rng.random() < 0.5:
        text += "\n"
    html_parts = [text[i : i + 97] for i in range(0, len(text), 97)]
    message = parse(builder.build(**fields(text=text, html=html_parts)))
    assert lf(body_of(message, "plain")) == text
    assert lf(body_of(message, "html")) == text
    if text.endswith("\n"):  # the stdlib always ends a body with a newline
        theirs = parse(stdlib_bytes(**fields(text=text, html=text)))
        assert lf(body_of(message, "plain")) == lf(body_of(theirs, "plain"))


def test_the_bytes_follow_the_line_rules(builder: MessageBuilder) -> None:
    data = builder.build(**fields(subject="Grüße aus Köln: " + "ein langer Betreff " * 8))
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    head, _, body = data.partition(b"\r\n\r\n")
    for line in body.split(b"\r\n"):
        assert len(line) <= 76
        assert not line.startswith(b"From ")
        assert not line.endswith((b" ", b"\t"))
    for line in head.split(b"\r\n"):
        # Only a single word too long for any line (a long URL) may pass 78 columns.
        assert len(line) <= 78 or len(line.strip().split(b" ")) <= 2, line
    assert data.isascii()


def test_html_pieces_and_a_string_encode_to_the_same_content(builder: MessageBuilder) -> None:
    library = TemplateLibrary(PROJECT_ROOT / "templates")
    email = library.render("cold-five-mistakes", sample_context())
    assert len(email.html_parts) > 1
    from_pieces = parse(builder.build(**fields(html=email.html_parts, text=email.text)))
    from_string = parse(builder.build(**fields(html=email.html, text=email.text)))
    assert lf(body_of(from_pieces, "html")) == email.html == lf(body_of(from_string, "html"))
    assert lf(body_of(from_pieces, "plain")) == email.text
    # Built again, the template's constant pieces come from the cache, with the same result.
    again = builder.build_email(
        email,
        from_addr="hello@brightpath.example",
        to_addr="dana@northwind.example",
        message_id="<x@y.example>",
        date=DATE,
    )
    assert lf(body_of(parse(again), "html")) == email.html
    assert parse(again)["Subject"] == email.subject


def test_non_ascii_headers_become_encoded_words(builder: MessageBuilder) -> None:
    subject = "Grüße, Zoë: 漢字 and emoji 🚀 " * 4
    data = builder.build(
        **fields(
            subject=subject.strip(),
            from_addr="Équipe Brightpath <hello@brightpath.example>",
            to_addr='"Whitfield, Dana" <dana@northwind.example>',
            headers={**HEADERS, "X-Campaign": "Café nurture"},
        )
    )
    head = data.partition(b"\r\n\r\n")[0]
    assert b"=?utf-8?b?" in head
    message = parse(data)
    assert message["Subject"] == subject.strip()
    assert message["From"].addresses[0].display_name == "Équipe Brightpath"
    assert message["To"].addresses[0].display_name == "Whitfield, Dana"
    assert message["To"].addresses[0].addr_spec == "dana@northwind.example"
    assert message["X-Campaign"] == "Café nurture"


def test_long_ascii_headers_fold_at_spaces_and_unfold_exactly(builder: MessageBuilder) -> None:
    subject = "A subject line that keeps going " * 5 + "=? looks like an encoded word"
    message = parse(builder.build(**fields(subject=subject.strip())))
    assert message["Subject"] == subject.strip()
    plain = "How to build a forecast your CFO will trust, in five steps, with one spreadsheet"
    data = builder.build(**fields(subject=plain))
    assert b"Subject: How to build" in data and b"\r\n spreadsheet" in data
    assert parse(data)["Subject"] == plain


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hello\r\nBcc: victim@example.com"},
        {"headers": {"X-Note": "a\nb"}},
        {"headers": {"Subject": "twice"}},
        {"headers": {"Bad Name": "x"}},
        {"to_addr": "Dana <dana@northwind.example>\r\nBcc: x@y.example"},
        {"to_addr": "not an address"},
        {"to_addr": "dänä@northwind.example"},
        {"message_id": "no-at-sign"},
        {"date": datetime(2025, 3, 4, 9, 30)},  # naive: which time zone?
    ],
)
def test_values_that_would_break_the_message_are_refused(builder, changes) -> None:
    with pytest.raises(ValueError):
        builder.build(**fields(**changes))


def test_message_ids_are_unique_and_accepted() -> None:
    ids = {new_message_id("brightpath.example") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"<[0-9a-f]+\.[0-9a-f]{24}@brightpath\.example>", i) for i in ids)
    assert new_message_id("bücher.example").endswith("@xn--bcher-kva.example>")
    message_id = new_message_id("brightpath.example")
    data = build_message(**fields(message_id=message_id))
    assert parse(data)["Message-ID"] == message_id
    bare = build_message(**fields(message_id=message_id.strip("<>")))
    assert parse(bare)["Message-ID"] == message_id
    with pytest.raises(ValueError):
        new_message_id("bad domain")


def test_an_empty_body_and_a_utc_date(builder: MessageBuilder) -> None:
    when = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    message = parse(builder.build(**fields(text="", html=(), date=when)))
    assert body_of(message, "plain") == "" and body_of(message, "html") == ""
    assert message["Date"] == "Wed, 31 Dec 2025 23:59:59 +0000"


def test_a_boundary_must_be_one_no_body_can_contain() -> None:
    with pytest.raises(ValueError):
        MessageBuilder(boundary="plain-boundary")
    assert "=_" in MessageBuilder().boundary
