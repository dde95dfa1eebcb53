"""The local outbox: the transport that stores mail, its queries and ``nurture outbox``."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

import nurture.cli.outbox_cmd  # noqa: F401  (registers the commands on ``cli``)
from nurture.cli import cli
from nurture.models import Lead, Message, OutboxMessage
from nurture.platform.db import transaction
from nurture.sending.delivery import Outgoing, Transport
from nurture.sending.outbox import (
    STORED_REPLY,
    OutboxTransport,
    clear_outbox,
    count_outbox,
    get_outbox_message,
    list_outbox,
)
from nurture.sending.transports import make_transport
from nurture.web import runtime_of

SENDER = "hello@brightpath.example"


def mime(to: str, subject: str, *, text: str | None = "Hi there.", html: str | None = None):  # type: ignore[no-untyped-def]
    message = EmailMessage()
    message["From"] = f"Brightpath <{SENDER}>"
    message["To"] = to
    message["Subject"] = subject
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message.as_bytes(policy=policy.SMTP)


def item(
    to: str, subject: str = "Welcome", pk: int | None = None, *, pass_subject: bool = True, **kw
) -> Outgoing:  # type: ignore[no-untyped-def]
    return Outgoing(pk, SENDER, to, mime(to, subject, **kw), subject if pass_subject else None)


@pytest.fixture
def sessions(app):  # type: ignore[no-untyped-def]
    return runtime_of(app).sessions


@pytest.fixture
def outbox(sessions) -> OutboxTransport:  # type: ignore[no-untyped-def]
    return OutboxTransport(sessions)


@pytest.fixture
def invoke(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str, **kwargs):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["outbox", *args], **kwargs)

    return run


# ---------------------------------------------------------------- the transport


def test_a_batch_is_stored_in_one_go_and_reported_sent(outbox, sessions):
    items = [item("ada@customer.example", "One"), item("bob@customer.example", "Two")]
    results = outbox.send_many(items)

    assert [(r.status, r.code, r.reply) for r in results] == [("sent", None, STORED_REPLY)] * 2
    assert all(r.ok for r in results)
    with transaction(sessions) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.to_address, r.subject, r.raw) for r in rows] == [
        ("ada@customer.example", "One", items[0].data),
        ("bob@customer.example", "Two", items[1].data),
    ]
    assert rows[0].stored_at.tzinfo is not None
    assert isinstance(outbox, Transport)


def test_a_stored_message_points_at_its_message_row(outbox, sessions):
    with transaction(sessions) as session:
        lead = Lead(email="ada@customer.example")
        session.add(lead)
        session.flush()
        message = Message(
            lead_id=lead.id,
            template="welcome",
            to_address=lead.email,
            message_id="abc@brightpath.example",
            token="tok-1",
        )
        session.add(message)
    assert outbox.send(item("ada@customer.example", pk=message.id)).ok
    with transaction(sessions) as session:
        stored = session.scalars(select(OutboxMessage)).one()
    assert stored.message_id == message.id


def test_the_subject_is_read_from_the_headers_when_not_given(outbox, sessions):
    outbox.send(item("ada@customer.example", "Grüße aus Köln", pass_subject=False))
    with transaction(sessions) as session:
        (stored,) = list_outbox(session)
    assert stored.subject == "Grüße aus Köln"


def test_a_batch_the_database_refuses_is_stored_not_at_all_and_reported_temporary(outbox, sessions):
    # The second item names a message row that does not exist: the foreign key refuses it.
    results = outbox.send_many([item("ada@customer.example"), item("b@x.example", pk=999_999)])
    assert [r.status for r in results] == ["temporary", "temporary"]
    assert results[0].reply.startswith("could not store in local outbox: IntegrityError")
    with transaction(sessions) as session:
        assert count_outbox(session) == 0


def test_make_transport_picks_the_outbox_without_an_smtp_url(settings, sessions):
    assert isinstance(make_transport(settings, sessions), OutboxTransport)


# ---------------------------------------------------------------- queries


def test_listing_is_newest_first_filtered_by_address_and_paged(outbox, sessions):
    outbox.send_many(
        [
            item("ada@customer.example", "First"),
            item("bob@customer.example", "Second"),
            item("ADA@customer.example", "Third"),
        ]
    )
    with transaction(sessions) as session:
        assert [m.subject for m in list_outbox(session)] == ["Third", "Second", "First"]
        assert [m.subject for m in list_outbox(session, to="Ada@Customer.example")] == [
            "Third",
            "First",
        ]
        assert [m.subject for m in list_outbox(session, limit=1, offset=1)] == ["Second"]
        assert count_outbox(session) == 3
        assert count_outbox(session, to="ada@customer.example") == 2


def test_get_and_clear(outbox, sessions):
    outbox.send_many([item("ada@customer.example"), item("bob@customer.example")])
    with transaction(sessions) as session:
        first_id = session.scalar(select(func.min(OutboxMessage.id)))
        assert get_outbox_message(session, first_id).to_address == "ada@customer.example"
        assert get_outbox_message(session, first_id + 100) is None
        assert clear_outbox(session) == 2
    with transaction(sessions) as session:
        assert count_outbox(session) == 0


# ---------------------------------------------------------------- nurture outbox


def stored_ids(sessions) -> list[int]:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def test_outbox_list_shows_a_table(outbox, invoke):
    outbox.send_many(
        [item("ada@customer.example", "[Brightpath] Hello"), item("bob@customer.example", "Hi")]
    )
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "ada@customer.example" in result.output
    assert "[Brightpath] Hello" in result.output  # brackets are text, not rich markup
    assert "2 of 2" in result.output
    assert result.output.index("bob@") < result.output.index("ada@")  # newest first

    only_bob = invoke("list", "--to", "bob@customer.example", "--limit", "5")
    assert "bob@customer.example" in only_bob.output
    assert "ada@customer.example" not in only_bob.output


def test_outbox_list_says_when_it_is_empty(invoke):
    result = invoke("list")
    assert result.exit_code == 0
    assert "The outbox has no messages." in result.output


def test_outbox_show_prints_headers_and_the_text_part_by_default(outbox, sessions, invoke):
    data = mime(
        "ada@customer.example",
        "Your guide",
        text="Plain words here.",
        html="<p>Rich <b>words</b> here.</p>",
    )
    outbox.send(Outgoing(None, SENDER, "ada@customer.example", data, "Your guide"))
    (message_id,) = stored_ids(sessions)

    default = invoke("show", str(message_id))
    assert default.exit_code == 0, default.output
    assert "Subject: Your guide" in default.output
    assert "To: ada@customer.example" in default.output
    assert "Plain words here." in default.output
    assert "<b>words</b>" not in default.output

    assert "<p>Rich <b>words</b> here.</p>" in invoke("show", str(message_id), "--html").output
    text = invoke("show", str(message_id), "--text").output
    assert "Plain words here." in text and "Subject:" not in text
    headers = invoke("show", str(message_id), "--headers").output
    assert "Subject: Your guide" in headers and "Plain words here." not in headers
    assert invoke("show", str(message_id), "--raw").stdout_bytes == data


def test_outbox_show_explains_a_missing_part(outbox, sessions, invoke):
    outbox.send(item("ada@customer.example", text="Only text."))
    (message_id,) = stored_ids(sessions)
    result = invoke("show", str(message_id), "--html")
    assert result.exit_code == 1
    assert f"message {message_id} has no HTML part" in result.output


def test_unknown_ids_are_a_clear_error(invoke):
    for command in ("show", "open"):
        result = invoke(command, "4242")
        assert result.exit_code == 1
        assert "no message with id 4242 in the outbox" in result.output


def test_outbox_open_writes_the_html_and_the_eml_and_prints_their_paths(
    outbox, sessions, settings, invoke
):
    data = mime("ada@customer.example", "Open me", text="Text.", html="<h1>Open me</h1>")
    outbox.send(Outgoing(None, SENDER, "ada@customer.example", data, "Open me"))
    (message_id,) = stored_ids(sessions)

    result = invoke("open", str(message_id))
    assert result.exit_code == 0, result.output
    html_path = settings.instance_path / "outbox" / f"{message_id}.html"
    eml_path = settings.instance_path / "outbox" / f"{message_id}.eml"
    assert result.output.split() == [str(html_path), str(eml_path)]
    assert "<h1>Open me</h1>" in html_path.read_text(encoding="utf-8")
    assert eml_path.read_bytes() == data


def test_outbox_clear_asks_first_unless_told_yes(outbox, sessions, invoke):
    outbox.send_many([item("ada@customer.example"), item("bob@customer.example")])

    declined = invoke("clear", input="n\n")
    assert declined.exit_code == 1
    assert len(stored_ids(sessions)) == 2

    result = invoke("clear", "--yes")
    assert result.exit_code == 0
    assert "Deleted 2 messages from the outbox." in result.output
    assert stored_ids(sessions) == []
