"""The public, unauthenticated edge: what a lead's mail client and browser reach.

It can be deployed on hosts of its own (``nurture serve`` serves it with the app):

- ``fast_path``: the open pixel and the click redirect, answered in front of Flask;
- ``collect``: the website snippet and its event collector (and the hit capture the fast
  path shares);
- ``unsubscribe``: one-click unsubscribe (RFC 8058), the preference centre and the double
  opt-in confirmation.

Every input here is untrusted: tokens are signed, a bad one never produces a 5xx. No
feature package imports this one; the app factory (``nurture.web``) mounts ``bp``.
"""

from flask import Blueprint

from tracking import collect, unsubscribe
from tracking.collect import PIXEL

bp = Blueprint("tracking", __name__)
bp.register_blueprint(collect.bp)
bp.register_blueprint(unsubscribe.bp)

__all__ = ["PIXEL", "bp"]
