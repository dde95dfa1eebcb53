"""A mail server that misbehaves the way real ones do, all at once (real SMTP, aiosmtpd):
it defers one message in ten with a 4xx, refuses some recipients with 550 5.1.1, and cuts
the connection after accepting one message in thirty-three — the server has queued it, the
sender never hears so. Nothing is lost: every lead whose mailbox exists gets its email;
the refused ones are suppressed at once; the only duplicates are the cut ones."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from nurture.models import Lead, Message
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from tests.conftest import SmtpSink, _free_port
from tests.integration.engine_support import T0, add_lead, enrol

LEADS = 150
GONE = {f"chaos{i:03d}@acme.example" for i in (7, 42, 99, 123, 140)}


class ChaoticSink(SmtpSink):
    """The shared sink, plus: every ``defer_every``-th DATA deferred, every ``cut_every``-th
    accepted and then the connection dropped before the reply."""

    defer_every = 10
    cut_every = 33
    datas = 0
    cuts = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.datas += 1
        if self.datas % self.defer_every == 0:
            return "451 4.3.0 Temporary local problem, try again later"
        reply = await super().handle_DATA(server, session, envelope)
        if self.datas % self.cut_every == 0:
            self.cuts += 1
            server.transport.close()  # queued here; the client never hears the 250
        return reply


def test_a_misbehaving_server_loses_nothing_and_duplicates_only_what_it_cut(drip):
    sink = ChaoticSink(host="127.0.0.1", port=_free_port())
    for address in GONE:
        sink.refuse_rcpt[address] = (
            f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        )
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    leads = [add_lead(drip, f"chaos{i:03d}@acme.example") for i in range(LEADS)]
    for lead in leads:
        enrol(drip, lead)
    runtime = Runtime.from_settings(drip.settings.with_overrides(smtp_url=sink.url))
    engine = Engine(runtime)
    try:
        now = T0
        for _ in range(12):  # each retry's back-off is over within two hours
            engine.tick(now)
            now += timedelta(hours=2)
    finally:
        engine.close()
        runtime.close()
        controller.stop()

    assert sink.cuts > 0 and sink.datas > LEADS  # the chaos happened
    copies = Counter(message["Message-ID"] for message in sink.received)
    received_by = {message["To"] for message in sink.received}
    with drip.sessions() as session:
        statuses = dict(
            session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        )
        suppressed = set(session.scalars(select(Lead.email).where(Lead.suppressed_at.is_not(None))))
    # Every existing mailbox got its email; nothing waits, nothing failed but the refused.
    assert received_by == {f"chaos{i:03d}@acme.example" for i in range(LEADS)} - GONE
    assert statuses == {"sent": LEADS - len(GONE), "failed": len(GONE)}
    # The refused addresses are suppressed at once, with no retry.
    assert suppressed == GONE
    # The only duplicates: the messages whose acceptance the cut connection never reported.
    assert sum(count - 1 for count in copies.values()) == sink.cuts
