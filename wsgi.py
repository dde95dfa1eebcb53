"""WSGI entry point: ``gunicorn wsgi:app`` (or ``nurture serve``)."""

from nurture.web import create_app

app = create_app()
