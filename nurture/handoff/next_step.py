"""The suggested next step in a handoff notification, derived from what the lead did. Pure.

A salesperson reading the notification should know what to do in the first minute: the
strongest signal decides the move (a demo request beats a pricing visit, which beats
reading a case study), and the rest of the context adds what to prepare.

The action and the reason are English sentences marked for the catalogue (``N_``): the
snapshot stores them as they are, and each reader sees them in their own language (the
sentence is its own catalogue key, so older snapshots translate too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch

from nurture.platform.i18n import N_


@dataclass(frozen=True)
class Signal:
    """One human event of the lead: its type, and the URL/form it was about."""

    type: str
    url: str | None = None
    form: str | None = None


@dataclass(frozen=True)
class NextStep:
    """What to do (one sentence) and why (the signals behind it)."""

    action: str
    because: str
    prepare: tuple[str, ...] = ()


def _path(url: str | None) -> str:
    if not url:
        return ""
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def _any(
    signals: Iterable[Signal],
    *,
    types: Sequence[str] = (),
    pages: Sequence[str] = (),
    forms: Sequence[str] = (),
) -> bool:
    for signal in signals:
        if signal.type in types:
            return True
        if pages and signal.type in ("page.viewed", "email.clicked"):
            path = _path(signal.url).lower()
            if any(fnmatch(path, pattern) for pattern in pages):
                return True
        if forms and signal.form and any(fnmatch(signal.form.lower(), f) for f in forms):
            return True
    return False


DEMO_FORMS = ("*demo*",)
CONTACT_FORMS = ("*contact*", "*sales*", "*quote*")
PRICING_PAGES = ("/pricing*", "*/pricing*", "*/plans*")


def suggest_next_step(
    signals: Sequence[Signal],
    *,
    hand_raiser: bool,
    missing: Sequence[str] = (),
    lead_role: str = "unknown",
    committee: Sequence[tuple[str, str]] = (),
) -> NextStep:
    """The move the signals call for. ``committee`` is (name, role) of the account's other
    engaged people; ``missing`` the fit data nobody knows yet."""
    demo = _any(signals, types=("demo.requested",), forms=DEMO_FORMS)
    contact = _any(signals, types=("contact.requested", "sales.contacted"), forms=CONTACT_FORMS)
    pricing = _any(signals, pages=PRICING_PAGES)
    trial = _any(signals, types=("trial.started",))
    webinar = _any(signals, types=("webinar.attended",))
    content = _any(
        signals, types=("content.downloaded",), pages=("*case-stud*", "*customers*", "*roi*")
    )

    if demo and pricing:
        step = NextStep(
            N_("Call to book the demo, and be ready to talk pricing"),
            N_("they asked for a demo and looked at pricing"),
        )
    elif demo:
        step = NextStep(N_("Call to book the demo they asked for"), N_("they asked for a demo"))
    elif contact:
        step = NextStep(
            N_("Call back today: they asked to talk to sales"),
            N_("they filled in a contact form"),
        )
    elif trial:
        step = NextStep(
            N_("Offer an onboarding call to get the trial to its first result"),
            N_("they started a trial"),
        )
    elif pricing:
        step = NextStep(
            N_("Send pricing for their team size and offer a 20-minute call"),
            N_("they looked at pricing more than once")
            if _count_pricing(signals) > 1
            else N_("they looked at pricing"),
        )
    elif webinar:
        step = NextStep(
            N_("Follow up on the webinar with the recording and one question about their use case"),
            N_("they attended a webinar"),
        )
    elif content:
        step = NextStep(
            N_("Share a customer story from their industry and suggest a discovery call"),
            N_("they read case studies or downloaded content"),
        )
    elif hand_raiser:
        step = NextStep(
            N_("Call within the hour: they raised their hand"), N_("a hand-raising event")
        )
    else:
        step = NextStep(
            N_("Send a personal note about what they read and suggest a discovery call"),
            N_("steady engagement with the nurture emails"),
        )

    prepare: list[str] = []
    deciders = [name for name, role in committee if role == "decision maker"]
    if lead_role != "decision maker" and deciders:
        prepare.append(f"Loop in {deciders[0]}, who looks like the decision maker")
    elif lead_role != "decision maker" and committee:
        prepare.append("Ask who else decides: no decision maker is engaged yet")
    elif lead_role != "decision maker":
        prepare.append("Find out who signs: nobody else at the account is engaged yet")
    if missing:
        prepare.append("Ask about " + ", ".join(missing[:4]) + " (not known yet)")
    return NextStep(step.action, step.because, tuple(prepare))


def _count_pricing(signals: Sequence[Signal]) -> int:
    return sum(1 for s in signals if _any([s], pages=PRICING_PAGES))
