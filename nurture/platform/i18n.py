"""Where the app's translations are (``make messages`` writes them): the web pages and the
emails the product writes to its users (the weekly digest) read the same catalogue."""

from __future__ import annotations

from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent.parent / "web" / "translations"
DEFAULT_LOCALE = "en"
