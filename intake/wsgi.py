"""WSGI entry point for gunicorn: ``gunicorn -c ops/gunicorn.conf.py 'intake.wsgi:app'``
(settings from the environment; forwarded headers believed only from the trusted proxy)."""

from intake.serving import production_app

app = production_app()
