"""``nurture demo --locale pl``: the demo end to end with Polish people, and every email it
sends (campaigns, auto-replies, the reps' notifications and SLA mail) in Polish."""

from __future__ import annotations

import email
import sqlite3
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path

from tests.integration.demo.test_demo_command import NURTURE, _environment

# Words that only an English email would have in its subject.
ENGLISH = ("Welcome", "Thanks", "How ", "What's", "Reminder", "New MQL", "Hand-raiser")


def _outbox(database: Path) -> list[EmailMessage]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("select raw from outbox order by id").fetchall()
    return [email.message_from_bytes(raw, policy=policy.default) for (raw,) in rows]


def test_the_polish_demo_sends_polish_email_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [*NURTURE, "demo", "--weeks", "1", "--no-serve", "--locale", "pl"],
        env=_environment(tmp_path / "instance"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Where each lead is" in done.stdout

    sent = _outbox(tmp_path / "instance" / "demo" / "nurture.db")
    subjects = [str(message["Subject"]) for message in sent]
    assert len(sent) > 10
    # Lead-facing mail and the internal notifications alike.
    assert any(s.startswith("Witamy w Brightpath") for s in subjects), subjects
    assert any(s.startswith("Dziękujemy") for s in subjects), subjects  # the auto-reply
    assert any(s.startswith(("Nowy MQL", "Zgłoszenie")) for s in subjects), subjects
    for message in sent:
        subject = str(message["Subject"])
        html = message.get_body(preferencelist=("html",)).get_content()
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert '<html lang="pl"' in html, subject
        assert not subject.startswith(ENGLISH), subject
        assert "Dzień dobry" in text or "Cześć" in text or "czeka" in text, subject
    # The people are Polish too: Polish names and companies, Polish addresses.
    assert all(message["To"].endswith((".example", "@gmail.com", "@wp.pl")) for message in sent)
    assert "przewozy-mazury.example" in done.stdout
