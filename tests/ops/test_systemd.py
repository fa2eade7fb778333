"""ops/systemd: both services run as the dedicated user with every hardening option, write
only the instance folder, keep the courier key out of the web process, and pass
``systemd-analyze verify`` (and score "OK" in ``systemd-analyze security``) when available."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ops.serving_support import OPS

UNITS = OPS / "systemd"
SERVICES = ["intake-web.service", "intake-worker.service"]
INSTANCE = "/var/lib/intake"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictSUIDSGID": "yes",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "User": "intake",
    "Group": "intake",
    "UMask": "0077",
    "Restart": "on-failure",
}


def directives(name: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every line of a unit file, repeated keys kept in order."""
    found: list[tuple[str, str, str]] = []
    section = ""
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def values(name: str, key: str) -> list[str]:
    return [value for section, k, value in directives(name) if section == "Service" and k == key]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("key", "value"), sorted(HARDENING.items()))
def test_service_sets_the_hardening_option(service: str, key: str, value: str) -> None:
    assert values(service, key) == [value]


@pytest.mark.parametrize("service", SERVICES)
def test_service_writes_only_the_instance_folder(service: str) -> None:
    assert values(service, "ReadWritePaths") == [INSTANCE]
    assert values(service, "Environment") == [f"INTAKE_INSTANCE={INSTANCE}"]
    for key in ("StateDirectory", "CacheDirectory", "LogsDirectory", "RuntimeDirectory",
                "ReadWriteDirectories"):
        assert values(service, key) == [], key


def test_web_reloads_gracefully_with_hup() -> None:
    assert values("intake-web.service", "ExecReload") == ["/bin/kill -HUP $MAINPID"]
    assert values("intake-web.service", "ExecStart")[0].endswith(
        "intake serve --production --host 127.0.0.1 --port 5000")


def test_worker_runs_intake_worker() -> None:
    assert values("intake-worker.service", "ExecStart") == ["/opt/intake/venv/bin/intake worker"]


def test_only_the_worker_gets_the_courier_key() -> None:
    assert values("intake-web.service", "EnvironmentFile") == ["/etc/intake/env"]
    assert values("intake-worker.service", "EnvironmentFile") == [
        "/etc/intake/env", "/etc/intake/courier.env"]


def test_target_starts_both_services() -> None:
    wants = [v for s, k, v in directives("intake.target") if k == "Wants"]
    assert wants == [" ".join(SERVICES)]
    for service in SERVICES:
        assert ("Unit", "PartOf", "intake.target") in directives(service)


def rendered(tmp_path: Path) -> list[Path]:
    """The units with ExecStart pointing at this machine's ``intake`` (verify checks it)."""
    intake = shutil.which("intake")
    assert intake is not None
    paths = []
    for unit in sorted(UNITS.iterdir()):
        path = tmp_path / unit.name
        path.write_text(unit.read_text().replace("/opt/intake/venv/bin/intake", intake))
        paths.append(path)
    return paths


@needs_systemd_analyze
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no",
                             *map(str, rendered(tmp_path))],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


@needs_systemd_analyze
@pytest.mark.parametrize("service", SERVICES)
def test_systemd_rates_the_exposure_ok(tmp_path: Path, service: str) -> None:
    assert SYSTEMD_ANALYZE is not None
    path = next(p for p in rendered(tmp_path) if p.name == service)
    result = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", "--no-pager",
                             str(path)], capture_output=True, text=True, timeout=120)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    if match is None:
        pytest.skip(f"this systemd-analyze cannot rate a unit offline: {result.stderr.strip()}")
    assert float(match.group(1)) <= 2.0, result.stdout
