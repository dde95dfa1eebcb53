"""The ``tracking_hits`` row one public tracking request makes (PURE).

The IP address is kept as ``NURTURE_IP_PRIVACY`` allows; the machine rules' network check
runs on the full address first, so a privacy-friendly setting does not blind them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import datetime
from typing import Any

from nurture.tracking.machine_rules import network_of_address

IP_PRIVACY_MODES = ("truncate", "hash", "full", "none")
_MAX_AGENT = 500


def stored_ip(ip: str | None, mode: str, secret: str) -> str | None:
    """PURE: ``ip`` as the privacy ``mode`` allows it to be kept.

    ``truncate`` keeps the network (/24 for IPv4, /48 for IPv6): enough for the rough
    location and the network rules, not enough to name a household. ``hash`` keeps a keyed
    hash (HMAC with the instance secret, so the 2^32 IPv4 addresses cannot simply be
    hashed and looked up), which still tells repeated visits apart. ``none`` keeps nothing.
    """
    return _stored(_address(ip), mode, secret)


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip)
    except ValueError:
        return None


_KEEP_24 = (1 << 32) - (1 << 8)
_KEEP_48 = (1 << 128) - (1 << 80)


def _stored(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, mode: str, secret: str
) -> str | None:
    if address is None or mode == "none":
        return None
    if mode == "full":
        return str(address)
    if mode == "hash":
        digest = hmac.new(secret.encode(), str(address).encode(), hashlib.sha256)
        return "h:" + digest.hexdigest()[:40]
    # Masking the integer is the /24 or /48 network address without building a network
    # object per request (this runs on every tracking hit).
    if address.version == 4:
        return str(ipaddress.IPv4Address(int(address) & _KEEP_24))
    return str(ipaddress.IPv6Address(int(address) & _KEEP_48))


def hit_row(
    *,
    kind: str,
    now: datetime,
    method: str,
    user_agent: str | None,
    ip: str | None,
    prefetch: bool,
    ip_privacy: str,
    secret: str,
    **fields: Any,
) -> dict[str, Any]:
    """PURE: the ``tracking_hits`` row for one request."""
    address = _address(ip)
    return {
        "kind": kind,
        "occurred_at": now,
        "method": method[:10],
        "user_agent": (user_agent or None) and user_agent[:_MAX_AGENT],
        "ip": _stored(address, ip_privacy, secret),
        "network": network_of_address(address),
        "prefetch": prefetch,
        "processed": False,
        **fields,
    }
