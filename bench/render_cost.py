"""Microbenchmark: per-email cost of render, link rewriting and MIME, side by side.

    .venv/bin/python bench/render_cost.py [--template welcome-guide] [--n 3000] [--repeat 5]

For one bundled template and the sample lead, each email gets a fresh message token and is
built exactly as the engine builds it (``BatchRenderer.build_message``): Jinja render of the
cached compiled template, ``track_links`` (signed click URLs, campaign UTM, honeypot), then
the MIME bytes. Each phase is timed separately in CPU time of the thread (``thread_time_ns``:
time spent waiting for a CPU on this shared 2-core machine does not count) and reported in
µs per email (median of ``--repeat`` runs of ``--n`` emails).

The reference in the same run: ``track_links`` with the click payloads of the previous
format (``itsdangerous.URLSafeSerializer``: JSON, zlib, a new HMAC per call), which the
redirect still accepts for emails already sent.
Goal: ``track_links`` at most ~60 µs per email (7 links including the honeypot).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import UTC, datetime

from benchlib import ROOT, SECRET, verdict
from itsdangerous import URLSafeSerializer

from nurture.rendering.context import sample_context
from nurture.rendering.library import TemplateLibrary
from nurture.sending.mime import MessageBuilder
from nurture.tracking.links import LinkSigner, link_signer, track_links
from nurture.tracking.tokens import MessageSigner, message_urls, new_message_token

PUBLIC_URL = "https://nurture.brightpath.example"
UTM = {"source": "nurture", "medium": "email", "campaign": "b2b-nurture"}
GOAL_US = 60.0


class LegacyLinkSigner(LinkSigner):
    """Click payloads as they were signed before the compact format (the reference)."""

    def __init__(self, secret_key: str) -> None:
        super().__init__(secret_key)
        self._legacy = URLSafeSerializer(secret_key, salt="nurture.click")

    def click_payload(self, token: str, index: int, count: int, url: str) -> str:
        return self._legacy.dumps([token, index, count, url])


def one_run(library: TemplateLibrary, template: str, n: int, signer: LinkSigner) -> dict:
    builder = MessageBuilder()
    message_signer = MessageSigner(SECRET)
    totals = {"render": 0, "track_links": 0, "mime": 0}
    now = datetime.now(UTC)
    links = 0
    for i in range(n):
        token = new_message_token()
        context = sample_context(public_url=PUBLIC_URL)
        context.update(message_urls(PUBLIC_URL, message_signer.sign(token)))
        t0 = time.thread_time_ns()
        rendered = library.render(template, context)
        t1 = time.thread_time_ns()
        tracked = track_links(rendered, token=token, signer=signer, public_url=PUBLIC_URL, utm=UTM)
        t2 = time.thread_time_ns()
        builder.build_email(
            tracked,
            from_addr="Brightpath <hello@brightpath.example>",
            to_addr=f"reader{i}@example.com",
            message_id=f"{token}@brightpath.example",
            date=now,
            headers={"X-Nurture-Message": token},
        )
        t3 = time.thread_time_ns()
        totals["render"] += t1 - t0
        totals["track_links"] += t2 - t1
        totals["mime"] += t3 - t2
        links = len(set(re.findall(r"/t/c/([\w.-]+)", tracked.html + tracked.text)))
    return {k: v / n / 1000 for k, v in totals.items()} | {"links": links}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--template", default="welcome-guide")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    library = TemplateLibrary(ROOT / "templates")
    signers = {"current": link_signer(SECRET), "legacy (reference)": LegacyLinkSigner(SECRET)}
    for signer in signers.values():  # compile the template, warm caches
        one_run(library, args.template, 200, signer)
    runs: dict[str, list[dict]] = {name: [] for name in signers}
    for _ in range(args.repeat):  # interleaved, so load changes hit both alike
        for name, signer in signers.items():
            runs[name].append(one_run(library, args.template, args.n, signer))
    print(
        f"template {args.template}, {args.n} emails x {args.repeat} runs, "
        f"{runs['current'][0]['links']} signed click URLs per email (incl. the honeypot)"
    )
    print(f"{'µs per email (median)':<24}{'render':>10}{'track_links':>14}{'MIME':>10}")
    for name, results in runs.items():
        med = {
            k: statistics.median(r[k] for r in results) for k in ("render", "track_links", "mime")
        }
        print(f"{name:<24}{med['render']:>10.1f}{med['track_links']:>14.1f}{med['mime']:>10.1f}")
    current = statistics.median(r["track_links"] for r in runs["current"])
    ok = verdict(current <= GOAL_US)
    print(f"track_links {current:.1f} µs per email (goal <= ~{GOAL_US:.0f}): {ok}")


if __name__ == "__main__":
    main()
