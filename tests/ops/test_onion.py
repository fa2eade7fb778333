"""The onion service: ``INTAKE_ONION_URL`` validated, shown on the start page (translated) only
when set, and ops/tor/torrc accepted by ``tor --verify-config`` when tor is installed."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from intake import create_app
from intake.errors import ConfigError
from intake.settings import Settings
from tests.ops.serving_support import OPS

ONION = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"  # torproject.org
TORRC = OPS / "tor" / "torrc"
TOR = shutil.which("tor") or next((p for p in ("/usr/sbin/tor",) if Path(p).exists()), None)


def from_env(tmp_path: Path, onion: str) -> Settings:
    return Settings.from_env({"INTAKE_INSTANCE": str(tmp_path / "instance"),
                              "INTAKE_ONION_URL": onion})


def test_a_v3_onion_address_is_accepted(tmp_path: Path) -> None:
    assert from_env(tmp_path, ONION + "/").onion_url == ONION


def test_onion_url_is_unset_by_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"INTAKE_INSTANCE": str(tmp_path / "instance")})
    assert settings.onion_url is None


@pytest.mark.parametrize("bad", [
    ONION.replace("http://", "ftp://"),  # not http
    "http://example.org",  # not an onion
    "http://" + "a" * 16 + ".onion",  # a retired v2 address
    ONION.replace(".onion", "1.onion"),  # 57 characters
    ONION.replace("gzyxa", "GZYXA"),  # base32 is lower case here
    ONION + "/monitor",  # a path
    ONION + ".evil.example",  # a suffix
])
def test_a_bad_onion_url_is_a_one_line_config_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="INTAKE_ONION_URL") as caught:
        from_env(tmp_path, bad)
    assert "\n" not in str(caught.value)


@pytest.fixture
def start_page(settings: Settings) -> Iterator[FlaskClient]:
    """A client of an app whose settings name an onion address."""
    app = create_app(dataclasses.replace(settings, onion_url=ONION))
    yield app.test_client()
    app.extensions["intake.db"].dispose()


def test_start_page_shows_the_onion_address_when_set(start_page: FlaskClient) -> None:
    page = start_page.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"You can also open this site in Tor Browser: {ONION}" in page


def test_start_page_shows_the_onion_address_in_the_visitors_language(
    start_page: FlaskClient,
) -> None:
    page = start_page.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert f"También puede abrir este sitio en Tor Browser: {ONION}" in page


def test_start_page_says_nothing_of_tor_when_unset(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Tor Browser" not in page and ".onion" not in page


@pytest.mark.skipif(TOR is None, reason="tor is not installed (Debian: apt-get install tor); "
                    "CI installs it")
def test_tor_accepts_the_torrc(tmp_path: Path) -> None:
    assert TOR is not None
    service, data = tmp_path / "service", tmp_path / "data"
    for folder in (service, data):
        folder.mkdir(mode=0o700)
    rendered = tmp_path / "torrc"
    text = TORRC.read_text()
    assert "HiddenServiceDir /var/lib/tor/intake/" in text
    rendered.write_text(text.replace("/var/lib/tor/intake/", f"{service}/"))
    result = subprocess.run([TOR, "--verify-config", "-f", str(rendered), "--defaults-torrc",
                             "/dev/null", "--DataDirectory", str(data)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout


def test_torrc_forwards_the_onion_to_the_onion_vhost_only() -> None:
    ports = [line.split()[1:] for line in TORRC.read_text().splitlines()
             if line.startswith("HiddenServicePort")]
    assert ports == [["80", "127.0.0.1:8080"]]
    assert "listen 127.0.0.1:8080;" in (OPS / "nginx" / "intake.conf").read_text()
