"""PURE: is a tracking hit a person or a machine? Each rule that fires adds a reason.

Machine hits are kept and flagged, never dropped: reports show both numbers, scores count
only human ones. The rules and why each is there:

* **Apple Mail Privacy Protection** fetches every image of every email on delivery, from
  Apple's network (17.0.0.0/8, Apple's own allocation) with a bare ``Mozilla/5.0`` agent.
  Only opens: Apple staff click links from the same network.
* **Image proxies** (Gmail's GoogleImageProxy, Yahoo's YahooMailProxy) fetch the pixel on
  the reader's behalf, so the open says nothing reliable about who and when. Google's proxy
  egress ranges (below) are the ones ESPs document, all inside Google's published SPF blocks.
* **Security gateways** (Barracuda, Mimecast, Proofpoint, Microsoft Defender Safe Links…)
  follow links to check them, often from Exchange Online Protection's published ranges.
* **HEAD and prefetch** requests are never a person reading or clicking.
* **Too soon after delivery**: nobody reads and clicks within seconds of the send.
* **Every link clicked within seconds**, and the **honeypot** link nobody can see: both are
  checked by the processor with the message's other hits (``burst_of_all_links``).
* **Automation user agents** (curl, python-requests, headless browsers, link previewers).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# name -> networks. Order matters only for readability; the first match wins.
KNOWN_NETWORKS: dict[str, tuple[str, ...]] = {
    "apple": ("17.0.0.0/8",),
    "google": (
        "66.102.0.0/20",
        "66.249.80.0/20",
        "64.233.160.0/19",
        "72.14.192.0/18",
        "74.125.0.0/16",
    ),
    # Exchange Online Protection (Microsoft 365 URLs and IP ranges, "Exchange Online").
    "microsoft-eop": (
        "40.92.0.0/15",
        "40.107.0.0/16",
        "52.100.0.0/14",
        "104.47.0.0/17",
        "2a01:111:f400::/48",
    ),
}
_NETWORKS = [
    (name, ipaddress.ip_network(cidr)) for name, cidrs in KNOWN_NETWORKS.items() for cidr in cidrs
]
# The same networks as integer (version, mask, network address): a containment test is one
# AND and one comparison, not an ipaddress object comparison, on every tracking hit.
_MASKS = [
    (name, net.version, int(net.netmask), int(net.network_address)) for name, net in _NETWORKS
]

# Lower-cased user-agent fragments of link-checking security gateways -> reason suffix.
SCANNER_AGENTS = {
    "barracuda": "barracuda",
    "mimecast": "mimecast",
    "proofpoint": "proofpoint",
    "ppops": "proofpoint",
    "safelinks": "microsoft-safe-links",
    "microsoft defender": "microsoft-safe-links",
    "bingpreview": "microsoft-safe-links",
    "trendmicro": "trend-micro",
    "trend micro": "trend-micro",
    "ironport": "cisco-ironport",
    "forcepoint": "forcepoint",
    "sophos": "sophos",
    "symantec": "symantec",
    "messagelabs": "symantec",
    "fireeye": "trellix",
    "trellix": "trellix",
    "zscaler": "zscaler",
    "vade": "vade",
}
IMAGE_PROXY_AGENTS = {
    "googleimageproxy": "google-image-proxy",
    "ggpht.com": "google-image-proxy",
    "yahoomailproxy": "yahoo-mail-proxy",
}
AUTOMATION_AGENTS = (
    "bot",
    "crawler",
    "spider",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "axios/",
    "node-fetch",
    "scrapy",
    "headlesschrome",
    "phantomjs",
    "facebookexternalhit",
    "preview",
)
# Apple MPP's fetches carry exactly this agent.
APPLE_MPP_AGENT = "mozilla/5.0"


@dataclass(frozen=True)
class Thresholds:
    """Time limits of the timing rules."""

    # An open or click this soon after the send is a machine.
    after_delivery: timedelta = timedelta(seconds=10)
    # Every link of a message clicked within this span is a scanner.
    all_links_within: timedelta = timedelta(seconds=15)
    # Clicks this close to a honeypot hit on the same message are the same scanner.
    honeypot_window: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class HitView:
    """What the per-hit rules look at."""

    kind: str  # open | click | honeypot | page | form | api
    method: str = "GET"
    user_agent: str | None = None
    network: str | None = None
    prefetch: bool = False
    occurred_at: datetime | None = None
    sent_at: datetime | None = None


def network_of(ip: str | None) -> str | None:
    """The name of the known network ``ip`` belongs to, or None."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return network_of_address(address)


def network_of_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str | None:
    """``network_of`` for an address already parsed (the capture path parses it once)."""
    if address is None:
        return None
    value, version = int(address), address.version
    for name, net_version, mask, network in _MASKS:
        if version == net_version and value & mask == network:
            return name
    return None


def machine_reasons(hit: HitView, thresholds: Thresholds = Thresholds()) -> list[str]:
    """Why ``hit`` is a machine; an empty list means it looks human."""
    reasons: list[str] = []
    agent = (hit.user_agent or "").strip().lower()
    email_hit = hit.kind in ("open", "click", "honeypot")
    if hit.kind == "honeypot":
        reasons.append("honeypot")
    if hit.method.upper() == "HEAD":
        reasons.append("head-request")
    if hit.prefetch:
        reasons.append("prefetch")
    if not agent:
        reasons.append("no-user-agent")
    if hit.kind == "open":
        if hit.network == "apple" or agent == APPLE_MPP_AGENT:
            reasons.append("apple-mpp")
        elif hit.network == "google":
            reasons.append("google-image-proxy")
    for fragment, name in IMAGE_PROXY_AGENTS.items():
        if fragment in agent:
            reasons.append(name)
            break
    scanner = _scanner(agent, hit.network)
    if scanner:
        reasons.append(f"scanner:{scanner}")
    elif any(fragment in agent for fragment in AUTOMATION_AGENTS):
        reasons.append("automation-agent")
    if (
        email_hit
        and hit.sent_at is not None
        and hit.occurred_at is not None
        and hit.occurred_at - hit.sent_at < thresholds.after_delivery
    ):
        reasons.append("too-soon-after-delivery")
    return list(dict.fromkeys(reasons))


def _scanner(agent: str, network: str | None) -> str | None:
    for fragment, name in SCANNER_AGENTS.items():
        if fragment in agent:
            return name
    if network == "microsoft-eop":
        return "microsoft-safe-links"
    return None


def burst_of_all_links(
    clicks: Iterable[tuple[datetime, int]],
    link_count: int,
    thresholds: Thresholds = Thresholds(),
) -> list[datetime] | None:
    """The click times of a burst that hit every link of a message within
    ``thresholds.all_links_within``, or None. ``clicks`` are (time, link index) pairs of
    one message. A message with a single link is left to the other rules: one click on
    its only link is what a person does."""
    if link_count < 2:
        return None
    ordered = sorted(clicks)
    window = thresholds.all_links_within
    for i, (start, _) in enumerate(ordered):
        inside = [(at, index) for at, index in ordered[i:] if at - start <= window]
        if len({index for _, index in inside if index >= 0}) >= link_count:
            return [at for at, _ in inside]
    return None
