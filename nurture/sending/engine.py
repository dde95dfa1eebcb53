"""The send engine: claim due enrolments, decide, record, then render and deliver.

One tick repeats two phases until nothing is due:

1. **Decide** (one transaction): claim a batch of due enrolments (``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, so any number of workers share the work without overlap), load the facts
   the batch's campaigns need in a few queries, run the pure drip rules, insert one
   ``Message`` per send (the unique key on enrolment and step makes a second copy impossible
   to record), move the enrolments on, and commit.
2. **Deliver** (after the commit, as the design requires): render each message from the
   cached template, build its MIME bytes, hand the batch to the transport (SMTP or the
   local outbox), and record the outcomes in one more transaction.

A message is claimed with a lease (``next_attempt_at``): if the worker dies after the commit
but before recording the outcome, a later tick sends it again once the lease runs out.
Temporary failures are retried with backoff; permanent ones are recorded as failed.

The phases live in ``nurture.sending.decide`` (claim, decide, record the sends; claim
retries), ``nurture.sending.render`` (render and MIME) and ``nurture.sending.record``
(outcomes); this module runs them, with delivery on its own thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from email.utils import parseaddr

from nurture.platform.config import Settings
from nurture.platform.outage import is_outage
from nurture.platform.runtime import Runtime
from nurture.rendering.library import TemplateLibrary, template_library
from nurture.sending.decide import Decider
from nurture.sending.delivery import Transport
from nurture.sending.record import OutcomeRecorder
from nurture.sending.render import BatchRenderer, Built
from nurture.sending.specs import SpecCache
from nurture.sending.tick import Prepared, TickReport
from nurture.sending.transports import make_transport

log = logging.getLogger(__name__)


class DeliveryLane:
    """A thread that sends and records built batches one at a time, in order.

    At most one batch waits while another is in flight, so memory stays bounded. If the
    lane fails (SMTP transport bug, database down while recording), ``submit`` re-raises
    the error in the caller; messages it had not recorded keep their ``sending`` lease
    and are retried by a later tick, never lost. Leaving the ``with`` block always waits
    for the batch in flight, so an error in the caller cannot drop recorded outcomes.
    """

    def __init__(
        self, work: Callable[[Built, datetime, TickReport], None], now: datetime, report: TickReport
    ) -> None:
        self._work = work
        self._now = now
        self._report = report
        self._queue: queue.Queue[Built | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="nurture-delivery", daemon=True)

    def __enter__(self) -> DeliveryLane:
        return self

    def submit(self, built: Built) -> None:
        """Queue a batch (blocks while the lane is still busy with the one before)."""
        self._raise_if_failed()
        if not self._thread.is_alive():
            # Started on the first batch: an idle tick (nothing due) costs no thread.
            self._thread.start()
        self._queue.put(built)

    def __exit__(self, *exc_info: object) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if exc_info[0] is None:
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError("the delivery lane failed") from self._error

    def _run(self) -> None:
        while (built := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the caller sees the error on its next submit
            try:
                self._work(built, self._now, self._report)
            except BaseException as exc:  # re-raised in the caller's thread
                if is_outage(exc):
                    # The worker's outage gate says so once; a traceback here would repeat
                    # it for every batch cut short.
                    log.debug("delivery lane stopped: the database cannot be reached")
                else:
                    log.exception("delivery lane failed")
                self._error = exc


class Engine:
    """Advances due enrolments and delivers their emails. One per worker process."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        transport: Transport | None = None,
        templates: TemplateLibrary | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings: Settings = runtime.settings
        self.transport = transport or make_transport(runtime.settings, runtime.sessions)
        # Both phases read the specs: the decider loads them, the renderer takes the
        # campaign's UTM from them.
        specs = SpecCache()
        envelope_address = parseaddr(self.settings.mail_from)[1]
        mail_domain = envelope_address.rpartition("@")[2] or "localhost"
        self.decider = Decider(runtime, specs, mail_domain)
        self.renderer = BatchRenderer(
            runtime,
            templates or template_library(runtime),
            specs,
            envelope_address=envelope_address,
            mail_domain=mail_domain,
        )
        self.recorder = OutcomeRecorder(runtime)

    def close(self) -> None:
        """Close the transport (and with it any open SMTP connection)."""
        self.transport.close()

    # ------------------------------------------------------------------ the tick

    def tick(self, now: datetime, *, max_batches: int | None = None) -> TickReport:
        """Process everything due at ``now``: decide and deliver in batches, then retries.

        Batches are pipelined: while the delivery lane sends batch k over SMTP and records
        its outcomes, this thread claims, decides and renders batch k+1. SMTP and database
        round trips wait on sockets (the GIL is free then), so the two overlap on one core.
        """
        report = TickReport()
        with DeliveryLane(self._send_and_record, now, report) as lane:
            while max_batches is None or report.batches < max_batches:
                prepared = self.decider.decide_batch(now, report)
                if prepared is None:
                    break
                report.batches += 1
                if prepared:
                    lane.submit(self.renderer.render_batch(prepared, now))
        # Retries last, once the lane has recorded every outcome of this tick's batches.
        while max_batches is None or report.batches < max_batches:
            retries = self.decider.claim_retries(now)
            if retries is None:
                break
            report.batches += 1
            report.retried += len(retries)
            if retries:
                self._deliver(retries, now, report)
        return report

    # ------------------------------------------------------------------ phase 2: deliver

    def _deliver(self, prepared: list[Prepared], now: datetime, report: TickReport) -> None:
        """Render, send and record one batch on this thread (used for retries)."""
        self._send_and_record(self.renderer.render_batch(prepared, now), now, report)

    def _send_and_record(self, built: Built, now: datetime, report: TickReport) -> None:
        """Hand a built batch to the transport a group at a time, recording each group's
        outcomes as soon as the server has answered them.

        An MTA records each message as it accepts it; a sender must too, or a crash re-sends
        whatever it had sent but not yet written down. In groups of
        ``NURTURE_OUTCOME_GROUP`` a worker killed (or a database lost) mid-batch sends again
        at most the groups in flight, not the batch: their messages keep their ``sending``
        lease and a later tick retries them.
        """
        sendable = {item.message_pk for item, _, _ in built.sendable}
        # Outcomes known before sending (a template that failed to render) go first.
        settled = [item for item in built.prepared if item.message_pk not in sendable]
        if settled:
            self.recorder.record(settled, built.results, now, report)
        group = max(1, self.settings.outcome_group)
        # A group's outcomes are written while the next group is on the wire, so the mail
        # server never waits for the database: at a crash at most two groups are unrecorded.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nurture-record") as writer:
            pending: Future[None] | None = None
            for start in range(0, len(built.outgoing), group):
                chunk = built.sendable[start : start + group]
                delivered = self.transport.send_many(built.outgoing[start : start + group])
                for (item, subject, version), result in zip(chunk, delivered, strict=True):
                    built.results[item.message_pk] = (result, subject, version, None)
                if pending is not None:
                    pending.result()  # a recording that failed stops the batch here
                items = [item for item, _, _ in chunk]
                pending = writer.submit(self.recorder.record, items, built.results, now, report)
            if pending is not None:
                pending.result()
