"""Tracking endpoints (open pixel, click redirect, unsubscribe, web events).

Public URLs: no authentication. The tracking issue fills this blueprint; the core never
imports this package.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tracking", __name__)

from tracking import unsubscribe  # noqa: E402, F401  (adds the /u/… routes to bp)
