"""Human or machine: each rule, with the reason it records."""

from datetime import UTC, datetime, timedelta

from nurture.tracking.hit_rows import stored_ip
from nurture.tracking.machine_rules import HitView, burst_of_all_links, machine_reasons, network_of

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = SENT + timedelta(hours=2)
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


def reasons(**kwargs):
    defaults = {"kind": "open", "user_agent": CHROME, "occurred_at": LATER, "sent_at": SENT}
    return machine_reasons(HitView(**{**defaults, **kwargs}))


def test_a_person_opening_and_clicking_later_is_human():
    assert reasons() == []
    assert reasons(kind="click") == []
    assert reasons(kind="page", sent_at=None) == []


def test_apple_mail_privacy_protection_opens_are_machine():
    assert reasons(network=network_of("17.58.101.9")) == ["apple-mpp"]
    assert reasons(user_agent="Mozilla/5.0") == ["apple-mpp"]
    # Apple's staff click from Apple's network: a click from there is not flagged for it.
    assert reasons(kind="click", network="apple") == []


def test_image_proxies_are_machine():
    gmail = (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    assert reasons(user_agent=gmail) == ["google-image-proxy"]
    assert reasons(network=network_of("66.102.8.1")) == ["google-image-proxy"]
    assert reasons(user_agent="YahooMailProxy; https://help.yahoo.com") == ["yahoo-mail-proxy"]


def test_security_scanners_are_machine():
    assert reasons(kind="click", user_agent="Barracuda Sentinel (EE)") == ["scanner:barracuda"]
    assert reasons(kind="click", user_agent="Mimecast/1.0") == ["scanner:mimecast"]
    assert reasons(kind="click", user_agent="Proofpoint URL Defense") == ["scanner:proofpoint"]
    assert reasons(kind="click", network=network_of("40.93.12.3")) == [
        "scanner:microsoft-safe-links"
    ]


def test_head_prefetch_and_missing_or_automated_agents_are_machine():
    assert reasons(kind="click", method="HEAD") == ["head-request"]
    assert reasons(kind="click", prefetch=True) == ["prefetch"]
    assert reasons(kind="click", user_agent="") == ["no-user-agent"]
    assert reasons(kind="page", user_agent="python-requests/2.32", sent_at=None) == [
        "automation-agent"
    ]


def test_hits_within_seconds_of_delivery_are_machine():
    assert reasons(kind="click", occurred_at=SENT + timedelta(seconds=3)) == [
        "too-soon-after-delivery"
    ]
    assert reasons(kind="click", occurred_at=SENT + timedelta(seconds=30)) == []


def test_the_honeypot_is_always_machine_and_reasons_accumulate():
    assert reasons(kind="honeypot") == ["honeypot"]
    assert reasons(
        kind="click", method="HEAD", user_agent="Mimecast", occurred_at=SENT + timedelta(seconds=1)
    ) == ["head-request", "scanner:mimecast", "too-soon-after-delivery"]


def test_every_link_clicked_within_seconds_is_a_burst():
    t = LATER
    burst = [(t, 0), (t + timedelta(seconds=1), 1), (t + timedelta(seconds=2), 2)]
    assert burst_of_all_links(burst, 3) == [t, t + timedelta(seconds=1), t + timedelta(seconds=2)]
    # A person clicking two of three links, or all three over minutes, is not a burst.
    assert burst_of_all_links(burst[:2], 3) is None
    slow = [(t + timedelta(minutes=i), i) for i in range(3)]
    assert burst_of_all_links(slow, 3) is None
    # One click on a message's only link is what people do.
    assert burst_of_all_links([(t, 0)], 1) is None


def test_ip_privacy_modes():
    assert stored_ip("203.0.113.77", "truncate", "k") == "203.0.113.0"
    assert stored_ip("2001:db8:1234:5678::1", "truncate", "k") == "2001:db8:1234::"
    assert stored_ip("203.0.113.77", "full", "k") == "203.0.113.77"
    assert stored_ip("203.0.113.77", "none", "k") is None
    hashed = stored_ip("203.0.113.77", "hash", "k")
    assert hashed.startswith("h:") and "203" not in hashed
    assert (
        hashed == stored_ip("203.0.113.77", "hash", "k") != stored_ip("203.0.113.77", "hash", "j")
    )
    assert stored_ip("not-an-ip", "full", "k") is None
