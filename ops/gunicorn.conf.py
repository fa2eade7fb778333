"""gunicorn settings for production: ``gunicorn -c ops/gunicorn.conf.py 'intake.wsgi:app'``.

The values live in ``intake/serving.py`` (installed with the package), so this file and
``intake serve --production`` cannot drift apart. Override on the command line (``-b``,
``-w``) or with ``INTAKE_WORKERS`` / ``WEB_CONCURRENCY`` and ``FORWARDED_ALLOW_IPS``.
"""

from typing import Any

from intake.serving import gunicorn_settings

globals().update(gunicorn_settings())


def on_starting(server: Any) -> None:
    """Before any worker forks: refuse the embedded default and an old schema, in one line."""
    import sys

    from intake.errors import IntakeError
    from intake.serving import preflight
    from intake.settings import Settings

    try:
        preflight(Settings.from_env())
    except IntakeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
