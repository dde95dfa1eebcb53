"""Nurture: self-hosted lead nurturing. The core holds no Flask; see nurture.web for the app."""

__version__ = "0.1.0"
