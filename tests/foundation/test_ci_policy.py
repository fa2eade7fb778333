"""CI policy as tests: bandit rules stay on and every exception says why; the dependency audit
(.ci/audit around pip-audit) fails on a known vulnerability and only warns when offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / ".ci" / "audit"
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "build", "dist", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", "__pycache__", "instance"}

# A bandit suppression, and one followed by a reason: "noqa: S310 - why", "(why)", ": why".
BANDIT_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>S\d+(?:\s*,\s*[A-Z]+\d+)*)(?P<rest>.*)$")
REASON_AFTER = re.compile(r"^\s*(\(|-|—|:)\s*\w+")
BLANKET_NOQA = re.compile(r"#\s*noqa(?!:)|#\s*ruff:\s*noqa")


def python_sources() -> list[Path]:
    found = [AUDIT]
    for path in ROOT.rglob("*.py"):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts[:-1]):
            found.append(path)
    return sorted(found)


def unexplained_bandit_noqas(path: Path, *, root: Path = ROOT) -> list[str]:
    """`file:line` for each bandit noqa whose reason is neither after it nor on the line above."""
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = []
    for number, line in enumerate(lines, start=1):
        match = BANDIT_NOQA.search(line)
        if match is None or REASON_AFTER.match(match["rest"]):
            continue
        above = lines[number - 2].strip() if number > 1 else ""
        codes = re.findall(r"S\d+", match["codes"])
        if above.startswith("#") and all(re.search(rf"{c}\b\W+\w+", above) for c in codes):
            continue
        bad.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return bad


def test_every_bandit_noqa_in_the_repository_says_why() -> None:
    bad = [entry for path in python_sources() for entry in unexplained_bandit_noqas(path)]
    assert bad == [], "add the reason after the code, e.g. '# noqa: S310 - our own server'"


def test_the_noqa_check_catches_a_bare_bandit_suppression(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    marker = "# no" + "qa: "  # split so that this file does not contain the pattern itself
    sample.write_text(
        f"a = urlopen(u)  {marker}S310\n"
        f"b = urlopen(u)  {marker}S310, E501\n"
        f"c = urlopen(u)  {marker}S310 - the operator's own server\n"
        f"d = loads(x)  {marker}S301 (bytes made just above)\n"
        "# S314: the app's own TwiML, parsed by expat\n"
        f"e = fromstring(t)  {marker}S314\n"
        "# an unrelated comment\n"
        f"f = fromstring(t)  {marker}S314\n",
        encoding="utf-8",
    )
    bad = unexplained_bandit_noqas(sample, root=tmp_path)
    assert [entry.split(":")[1] for entry in bad] == ["1", "2", "8"]


def test_no_blanket_noqa_hides_bandit_findings() -> None:
    bad = [f"{path.relative_to(ROOT)}:{number}"
           for path in python_sources()
           for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
           if BLANKET_NOQA.search(line)]
    assert bad == [], "name the rule: '# noqa: S310 - why', never a bare noqa"


def ruff_lint() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint: dict[str, object] = config["tool"]["ruff"]["lint"]
    return lint


def test_bandit_rules_stay_selected_and_are_not_ignored_globally() -> None:
    lint = ruff_lint()
    assert "S" in lint["select"]  # type: ignore[operator]
    ignored = lint.get("ignore", [])
    assert [code for code in ignored if code.startswith("S")] == []  # type: ignore[attr-defined]
    assert "extend-ignore" not in lint


def test_every_per_file_ignore_is_justified_by_a_comment_naming_each_code() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[tool.ruff.lint.per-file-ignores]", 1)[1].split("\n[", 1)[0]
    entries = ruff_lint()["per-file-ignores"]
    assert entries, "the section is parsed"
    comment: list[str] = []
    unexplained = []
    for line in section.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped)
            continue
        if "=" in stripped:
            pattern = stripped.split("=", 1)[0].strip().strip('"')
            why = " ".join([*comment, stripped.partition("#")[2]])
            missing = [code for code in entries[pattern]  # type: ignore[index]
                       if not re.search(rf"\b{code}\b", why)]
            if missing:
                unexplained.append(f"{pattern}: {missing}")
        comment = []
    assert unexplained == [], "say in a comment above the entry why each code is ignored there"


def test_ci_runs_the_audit_after_mypy_and_pip_audit_is_a_dev_tool() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line.strip() for line in run if line.strip() and not line.startswith(("#", "step"))]
    assert commands.index("python3 .ci/audit") > commands.index("python3 -m mypy")
    assert "set -euo pipefail" in commands
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev = config["project"]["optional-dependencies"]["dev"]
    assert any(re.fullmatch(r"pip-audit\s*>=\s*2\.7\s*,\s*<\s*3", spec) for spec in dev)


# --- .ci/audit's decisions, with a fake pip-audit first on PATH ---

FAKE = """#!{python}
import json, os, sys
from pathlib import Path
here = Path(__file__).parent
(here / "argv.json").write_text(json.dumps(sys.argv[1:]))
sys.stdout.write((here / "stdout").read_text())
sys.stderr.write((here / "stderr").read_text())
sys.exit(int((here / "code").read_text()))
"""


def dep(name: str, version: str, *vulns: dict[str, object]) -> dict[str, object]:
    return {"name": name, "version": version, "vulns": list(vulns)}


def vuln(vuln_id: str, *aliases: str) -> dict[str, object]:
    return {"id": vuln_id, "fix_versions": ["9.9.9"], "aliases": list(aliases),
            "description": "a planted advisory"}


def not_found(name: str) -> dict[str, object]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be "
                                         f"audited: {name} (1.0)"}


def run_audit(tmp_path: Path, *, code: int, stdout: str = "", stderr: str = "",
              ignore: str = "", args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "pip-audit"
    fake.write_text(FAKE.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    for name, value in (("stdout", stdout), ("stderr", stderr), ("code", str(code))):
        (fake_bin / name).write_text(value, encoding="utf-8")
    ignore_file = tmp_path / "audit-ignore"
    ignore_file.write_text(ignore, encoding="utf-8")
    environ = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}",
               "AUDIT_IGNORE_FILE": str(ignore_file)}
    return subprocess.run([sys.executable, str(AUDIT), *args], env=environ, capture_output=True,
                          text=True, timeout=60, check=False)


def report(*dependencies: dict[str, object]) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_audit_passes_a_clean_environment_and_audits_what_is_installed(tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=0, stdout=report(dep("flask", "3.1.3"), dep("rq", "2.1")))
    assert done.returncode == 0, done.stdout
    assert "2 packages checked, 0 known vulnerabilities" in done.stdout
    assert "WARNING" not in done.stdout
    argv = json.loads((tmp_path / "bin" / "argv.json").read_text())
    assert {"--local", "--skip-editable"} <= set(argv)
    assert argv[argv.index("--format") + 1] == "json"


def test_audit_fails_on_a_known_vulnerability(tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=1, stdout=report(
        dep("flask", "3.1.3"), dep("jinja2", "3.1.2", vuln("PYSEC-2024-1", "CVE-2024-1"))))
    assert done.returncode == 1
    assert "VULNERABLE: jinja2 3.1.2: PYSEC-2024-1" in done.stdout
    assert "1 known vulnerabilities" in done.stdout


def test_audit_fails_on_a_vulnerability_even_when_other_packages_were_skipped(
        tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=1, stdout=report(
        not_found("private-tool"), dep("jinja2", "3.1.2", vuln("GHSA-aaaa-bbbb-cccc"))))
    assert done.returncode == 1
    assert "GHSA-aaaa-bbbb-cccc" in done.stdout


def test_audit_tolerates_a_vulnerability_reviewed_in_the_ignore_file(tmp_path: Path) -> None:
    done = run_audit(
        tmp_path, code=1,
        stdout=report(dep("jinja2", "3.1.2", vuln("PYSEC-2024-1", "CVE-2024-1"))),
        ignore="# reviewed advisories\nCVE-2024-1  # sandbox only, unused by us, 2026-11-25\n")
    assert done.returncode == 0, done.stdout
    assert "ignored (reviewed in .ci/audit-ignore): jinja2 3.1.2: PYSEC-2024-1" in done.stdout


def test_audit_rejects_an_ignore_entry_without_reason_and_review_date(tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=1, stdout=report(dep("jinja2", "3.1.2", vuln("PYSEC-2024-1"))),
                     ignore="PYSEC-2024-1\n")
    assert done.returncode == 1
    assert "expected 'ID  # reason, YYYY-MM-DD'" in done.stdout


def test_audit_warns_but_passes_when_the_advisory_service_is_unreachable(tmp_path: Path) -> None:
    traceback = ("Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: "
                 "HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded\n")
    done = run_audit(tmp_path, code=1, stderr=traceback)
    assert done.returncode == 0, done.stdout
    assert "WARNING: dependency audit incomplete: advisory service unreachable" in done.stdout


def test_audit_warns_but_passes_when_no_package_could_be_looked_up(tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=0, stdout=report(not_found("flask"), not_found("rq")))
    assert done.returncode == 0, done.stdout
    assert "WARNING: dependency audit incomplete: advisory service unreachable" in done.stdout
    assert "0 packages checked" in done.stdout


def test_audit_names_the_packages_it_could_not_look_up(tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=0, stdout=report(dep("flask", "3.1.3"), not_found("rq")))
    assert done.returncode == 0, done.stdout
    assert "WARNING: dependency audit incomplete: 1 packages could not be looked up: rq" \
        in done.stdout


def test_audit_fails_when_pip_audit_breaks_for_another_reason(tmp_path: Path) -> None:
    done = run_audit(tmp_path, code=2, stderr="pip-audit: error: unrecognized arguments: --bad\n")
    assert done.returncode == 1
    assert "FAIL: pip-audit exited 2 without a report" in done.stdout


def closed_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.skipif(shutil.which("pip-audit") is None, reason="pip-audit is in the dev extra")
def test_real_pip_audit_against_an_unreachable_service_warns_and_passes() -> None:
    osv = f"http://127.0.0.1:{closed_local_port()}/v1/query"
    done = subprocess.run([sys.executable, str(AUDIT), "--vulnerability-service", "osv",
                           "--osv-url", osv], capture_output=True, text=True, timeout=120,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING: dependency audit incomplete: advisory service unreachable" in done.stdout


def test_the_checked_in_ignore_file_is_well_formed(tmp_path: Path) -> None:
    ignore = (ROOT / ".ci" / "audit-ignore").read_text(encoding="utf-8")
    done = run_audit(tmp_path, code=0, stdout=report(dep("flask", "3.1.3")), ignore=ignore)
    assert done.returncode == 0, done.stdout
