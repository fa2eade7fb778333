"""Tests of the operations examples: gunicorn, nginx, tor, systemd."""
