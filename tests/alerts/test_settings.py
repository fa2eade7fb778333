"""The SMTP settings of the buyers' digest, read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.errors import ConfigError
from intake.settings import Settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"INTAKE_INSTANCE": str(tmp_path / "instance"), **values}


def test_smtp_is_optional(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.smtp_url is None
    assert settings.mail_from == "alerts@intake.invalid"


@pytest.mark.parametrize("url", ["smtp://127.0.0.1:2525", "smtps://user:p%40ss@mail.example.org:465",
                                 "smtp://mail.example.org"])
def test_smtp_urls_are_accepted(tmp_path: Path, url: str) -> None:
    settings = Settings.from_env(env(tmp_path, INTAKE_SMTP_URL=url,
                                     INTAKE_MAIL_FROM="alerts@desk.example"))
    assert (settings.smtp_url, settings.mail_from) == (url, "alerts@desk.example")
    assert "p%40ss" not in repr(settings)


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:port",
                                 "smtp://host:0", "mail.example.org:25",
                                 "smtps://user:secret-pw@host:99999"])
def test_bad_smtp_url_is_a_one_line_error_without_the_password(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env(tmp_path, INTAKE_SMTP_URL=url))
    message = str(error.value)
    assert "INTAKE_SMTP_URL" in message and "\n" not in message
    assert "secret-pw" not in message


@pytest.mark.parametrize("address", ["alerts", "alerts@", "a b@example.org", "<x@y.org>"])
def test_bad_sender_address_is_refused(tmp_path: Path, address: str) -> None:
    with pytest.raises(ConfigError, match="INTAKE_MAIL_FROM"):
        Settings.from_env(env(tmp_path, INTAKE_MAIL_FROM=address))


def test_webhooks_to_private_addresses_are_off_unless_set(tmp_path: Path) -> None:
    assert Settings.from_env(env(tmp_path)).webhook_allow_private is False
    assert Settings.from_env(env(tmp_path, INTAKE_WEBHOOK_ALLOW_PRIVATE="1")
                             ).webhook_allow_private is True
