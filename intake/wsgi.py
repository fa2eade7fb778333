"""WSGI entry point for gunicorn: ``gunicorn 'intake.wsgi:app'`` (settings from the environment)."""

from intake.app import create_app

app = create_app()
