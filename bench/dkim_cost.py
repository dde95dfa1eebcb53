#!/usr/bin/env python
"""Microbenchmark: the CPU cost of DKIM-signing one campaign email, next to building it.

    .venv/bin/python bench/dkim_cost.py [--n 300] [--bits 2048]

A bundled template is rendered for the sample lead and built into MIME bytes exactly as the
engine does; then ``nurture.sending.dkim.DkimSigner`` (dkimpy, rsa-sha256, relaxed/relaxed)
signs it. Both are timed in CPU time of the thread (``thread_time_ns``: waiting for a CPU
on this shared machine does not count), so the reference (render + MIME of the same email,
measured in the same run) and the signature compare fairly. The key is made with the
openssl CLI, as docs/deliverability.md tells operators to. Every signature is verified
once with dkimpy against the matching public key, so a broken signer cannot look fast.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import dkim
from benchlib import ROOT

from nurture.rendering.context import sample_context
from nurture.rendering.library import TemplateLibrary
from nurture.sending.dkim import DkimSigner
from nurture.sending.mime import MessageBuilder

SELECTOR, DOMAIN = "bench", "brightpath.example"


def _key(folder: Path, bits: int) -> tuple[bytes, bytes]:
    key = folder / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(key), str(bits)], check=True, capture_output=True
    )
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--template", default="welcome-guide")
    args = parser.parse_args()

    library = TemplateLibrary(ROOT / "templates")
    builder = MessageBuilder()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        private, record = _key(Path(tmp), args.bits)
    signer = DkimSigner(selector=SELECTOR, domain=DOMAIN, private_key=private)

    build_ns, sign_ns = [], []
    for i in range(args.n):
        started = time.thread_time_ns()
        rendered = library.render(args.template, sample_context())
        data = builder.build_email(
            rendered,
            from_addr=f"Brightpath Analytics <hello@{DOMAIN}>",
            to_addr=f"lead{i}@company.example",
            message_id=f"{i}.bench@{DOMAIN}",
            date=now,
            headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
        built = time.thread_time_ns()
        signed = signer.sign(data)
        sign_ns.append(time.thread_time_ns() - built)
        build_ns.append(built - started)
        if i == 0 and not dkim.verify(signed, dnsfunc=lambda name, timeout=5: record):
            raise SystemExit("the signature does not verify: the benchmark would be meaningless")

    build = statistics.median(build_ns) / 1000
    sign = statistics.median(sign_ns) / 1000
    print(
        f"== DKIM cost: {args.template}, {len(data) / 1024:.1f} KB, RSA-{args.bits}, n={args.n} =="
    )
    print(f"reference  render + MIME          {build:8.0f} µs per email (median CPU time)")
    print(f"dkimpy     sign (rsa-sha256)      {sign:8.0f} µs per email (median CPU time)")
    print(f"ratio      signing / building     {sign / build:8.1f} ×")
    print(f"ceiling    one core signs at most {1e6 / sign:8.0f} emails/s")


if __name__ == "__main__":
    main()
