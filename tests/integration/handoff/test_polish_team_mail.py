"""A Polish sales team reads no English: the handoff notification, the SLA reminder and
escalation, the weekly digest and the accept/reject pages (with every refusal they can
show) come out in Polish, with Polish dates, numbers and working days.

What counts as English: any sentence of the app's catalogue (messages.pot) that Polish
translates differently, found as it is in a Polish render (a sentence left untranslated,
or one the code wrote without gettext and the catalogue knows), and English day or month
names."""

from __future__ import annotations

import html as html_module
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from nurture.analytics.digests import build_digest, render_digest
from nurture.campaigns.services import sync_campaign_files
from nurture.handoff import accept
from nurture.handoff.links import HandoffLinks
from nurture.handoff.sla import SlaPolicy, run_due
from nurture.handoff.team_sync import active_team
from nurture.models import OutboxMessage, SalesRep, User
from nurture.platform.config import PROJECT_ROOT
from nurture.platform.db import transaction
from nurture.platform.i18n import TRANSLATIONS
from nurture.platform.runtime import Runtime
from nurture.scoring import sync_scoring
from nurture.web import create_app
from tests.integration.engine_support import add_lead
from tests.integration.handoff.test_handoff_e2e import csrf_of, tick
from tests.integration.handoff_support import (
    add_account,
    add_event,
    handoff_row,
    owner_email,
    qualify,
    sync_team_file,
)

BUNDLED_TEAM = PROJECT_ROOT / "campaigns" / "sales-team.yaml"
# Tuesday 1 December 2026, 10:00 in Warsaw: inside every bundled rep's working hours.
T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ENGLISH_NAMES = re.compile(
    r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Monday|Tuesday|Wednesday|Thursday|Friday|Jan|Feb|Mar|"
    r"Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|business hours?|min ago|days? ago|every day)\b"
)


def _english_sentences() -> list[str]:
    """The pieces of catalogue sentences (between their placeholders) that Polish says
    differently, long enough to be English only: two words or more."""
    with (TRANSLATIONS / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="pl")
    pieces: set[str] = set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or message.context or set(ids) & set(strings):
            continue
        for text in ids:
            for piece in re.split(r"%\(\w+\)[sd]|%[sd]", text):
                piece = piece.strip(" .,:;()·—-")
                if len(piece.split()) >= 2 and len(piece) >= 8:
                    pieces.add(piece)
    return sorted(pieces)


ENGLISH = _english_sentences()


def english_in(text: str) -> list[str]:
    """The English a Polish reader would see in ``text`` (HTML: its words, not its tags)."""
    words = html_module.unescape(re.sub(r"<[^>]+>", " ", text))
    words = " ".join(words.split())
    found = [piece for piece in ENGLISH if piece in words]
    found += sorted({match.group(0) for match in ENGLISH_NAMES.finditer(words)})
    return found


@pytest.fixture
def team(settings, tmp_path):
    """The bundled configuration with a one-hour SLA, every rep and the manager reading
    Polish, the mail in the local outbox, and the web app on the same database."""
    configured = settings.with_overrides(
        sales_team_file=BUNDLED_TEAM,
        sla=SlaPolicy(timedelta(hours=1), 0.75, ("manager", "reassign")),
    )
    runtime = Runtime.from_settings(configured)
    sync_campaign_files(runtime, now=T, path=PROJECT_ROOT / "campaigns" / "examples")
    with transaction(runtime.sessions) as session:
        assert sync_scoring(session, PROJECT_ROOT / "campaigns" / "scoring.yaml", now=T).ok
    sync_team_file(runtime, BUNDLED_TEAM, T)
    with transaction(runtime.sessions) as session:
        readers = {rep.email for rep in session.scalars(select(SalesRep))}
        readers.add(active_team(session).manager_email)
        for email in readers:
            session.add(User(email=email, name=email, role="sales", locale="pl"))
    app = create_app({"NURTURE_SETTINGS": configured, "TESTING": True})
    try:
        yield runtime, app.test_client()
    finally:
        app.extensions["nurture"].close()
        runtime.close()


def _polish_hand_raiser(runtime: Runtime) -> int:
    account = add_account(
        runtime, "hurtownia.example", name="Hurtownia Kowalski", country="PL",
        employees=1250, industry="Logistics",
    )  # fmt: skip
    lead = add_lead(
        runtime, "marek@hurtownia.example", first_name="Marek", last_name="Kowalski",
        title="Dyrektor operacyjny", timezone="Europe/Warsaw", locale="pl-PL",
        account_id=account, hand_raised_at=T - timedelta(minutes=5),
    )  # fmt: skip
    add_event(runtime, lead, "page.viewed", T - timedelta(minutes=9), url="https://x/pricing")
    add_event(runtime, lead, "demo.requested", T - timedelta(minutes=5), form="demo")
    return lead


def _team_mail(runtime: Runtime) -> dict[str, list]:
    """Every email sent so far to someone other than the lead, by its kind of subject."""
    with runtime.sessions() as session:
        raws = session.scalars(select(OutboxMessage.raw).order_by(OutboxMessage.id)).all()
    mail: dict[str, list] = {}
    for raw in raws:
        message = message_from_bytes(raw, policy=policy.default)
        if message["To"] != "marek@hurtownia.example":
            mail.setdefault(str(message["Subject"]).split(":", 1)[0], []).append(message)
    return mail


def _parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return text, message.get_body(preferencelist=("html",)).get_content()


def test_the_notification_the_sla_mail_and_the_digest_of_a_polish_team_are_all_polish(team):
    runtime, _ = team
    first = qualify(runtime, _polish_hand_raiser(runtime), T, "hand-raiser", ("demo",), True)
    tick(runtime, T + timedelta(seconds=1))
    assert run_due(runtime, T + timedelta(minutes=46)).reminded == 1
    tick(runtime, T + timedelta(minutes=46))
    assert run_due(runtime, T + timedelta(minutes=61)).breached == 1
    tick(runtime, T + timedelta(minutes=61))

    mail = _team_mail(runtime)
    # Two notifications (the first owner's, and the next rep's after the breach), the
    # owner's reminder and the manager's escalation.
    assert sorted((subject, len(found)) for subject, found in mail.items()) == [
        ("Przekroczony termin SLA (1 godzina robocza)", 1),
        ("Przypomnienie", 1),
        ("Zgłoszenie", 2),
    ]
    for subject, messages in mail.items():
        for message in messages:
            text, html = _parts(message)
            assert english_in(str(message["Subject"])) == [], subject
            assert english_in(text) == [], (subject, text)
            assert english_in(html) == [], subject
    notification, _ = _parts(mail["Zgłoszenie"][0])
    assert "Zadzwoń, aby umówić demo, i bądź gotów rozmawiać o cenach" in notification
    assert "Poprosił(a) o demo, 5 min temu" in notification
    assert "Odpowiedz do wt., 1 gru, 11:00 (czas " in notification
    assert "1 godzina robocza" in notification
    escalation, _ = _parts(mail["Przekroczony termin SLA (1 godzina robocza)"][0])
    assert "pon.–pt." in escalation
    assert "Przekazany:    wt., 1 gru, 09:00 UTC" in escalation
    assert owner_email(runtime, first) is not None

    with runtime.sessions() as session:
        digest = build_digest(session, (T - timedelta(days=T.weekday())).date())
    rendered = render_digest(
        digest, company="Brightpath", reports_url="http://nurture.test/reports", locale="pl"
    )
    for part in (rendered.subject, rendered.text, rendered.html):
        assert english_in(part) == []


def test_the_accept_and_reject_pages_and_their_refusals_are_polish(team):
    runtime, client = team
    handoff_id = qualify(runtime, _polish_hand_raiser(runtime), T, "hand-raiser", ("demo",), True)
    handoff = handoff_row(runtime, handoff_id)
    settings = runtime.settings
    links = HandoffLinks(settings.secret_key, settings.public_url)
    urls = {
        name: url.removeprefix(settings.public_url)
        for name, url in links.urls(handoff.token, handoff.rep_id, T + timedelta(days=30)).items()
    }
    expired = links.urls(handoff.token, handoff.rep_id, T - timedelta(days=1))["accept_url"]

    pages = {
        "view": client.get(urls["view_url"]),
        "accept form": client.get(urls["accept_url"]),
        "reject form": client.get(urls["reject_url"]),
        # A tampered link names nobody: the Polish browser's language is all there is.
        "tampered": client.get(
            urls["accept_url"].replace("/handoffs/", "/handoffs/x"),
            headers={"Accept-Language": "pl"},
        ),
        # An expired one still names its rep, who reads Polish whatever the browser says.
        "expired": client.get(
            expired.removeprefix(settings.public_url), headers={"Accept-Language": "en"}
        ),
    }
    csrf = csrf_of(pages["reject form"].text)
    pages["no reason"] = client.post(urls["reject_url"], data={"csrf_token": csrf})
    pages["stale form"] = client.post(urls["accept_url"], data={"csrf_token": "stale"})
    with transaction(runtime.sessions) as session:
        accept(session, handoff_id, now=T + timedelta(minutes=5))
    pages["already accepted"] = client.post(urls["accept_url"], data={"csrf_token": csrf})

    statuses = {name: page.status_code for name, page in pages.items()}
    assert statuses == {
        "view": 200,
        "accept form": 200,
        "reject form": 200,
        "tampered": 404,
        "expired": 410,
        "no reason": 422,
        "stale form": 400,
        "already accepted": 409,
    }
    for name, page in pages.items():
        assert '<html lang="pl">' in page.text, name
        assert english_in(page.text) == [], (name, page.text)
    assert "Ten link wygasł 30 listopada 2026" in pages["expired"].text
    assert "Wybierz jeden z podanych powodów" in pages["no reason"].text
    assert "Zadzwoń, aby umówić demo" in pages["view"].text
