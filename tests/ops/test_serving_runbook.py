"""ops/README.md names only commands and options that exist: every ``intake`` (or
``intake-admin``) command line in it resolves in the CLI, with each ``--option`` it uses."""

from __future__ import annotations

import re
import subprocess

import click
import pytest

from intake.cli import main
from tests.ops.serving_support import OPS

COMMAND = re.compile(r"(?<![\w.-])intake(?:-admin)? +([a-z][\w|-]*(?: +\S+)*)")
AFTER_AN_OPTION = re.compile(r"(?:^|\s)-{1,2}[a-z][\w-]* +$")


def command_lines() -> list[str]:
    """Every ``intake ...`` invocation in the runbook: in code blocks and in backticks
    (prose such as "the intake user" is not one, nor ``-o intake``)."""
    found = []
    in_code = False
    for line in (OPS / "README.md").read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        for match in COMMAND.finditer(line):
            before = line[:match.start()]
            quoted = in_code or before.count("`") % 2 == 1
            if quoted and not AFTER_AN_OPTION.search(before):
                found.append(match.group(1).split("`")[0].strip())
    return found


def resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The command ``words`` name (first alternative of ``a|b``), and the options used."""
    command: click.Command = main
    options = []
    for word in words:
        if word.startswith("--"):
            options.append(word.split("=")[0])
        elif isinstance(command, click.Group) and word.split("|")[0] in command.commands:
            for alternative in word.split("|"):
                assert alternative in command.commands, alternative
            command = command.commands[word.split("|")[0]]
    return command, options


def test_the_runbook_names_intake_commands() -> None:
    assert len(command_lines()) >= 10


@pytest.mark.parametrize("line", command_lines())
def test_every_command_in_the_runbook_exists(line: str) -> None:
    command, options = resolve(line.split())
    assert not isinstance(command, click.Group), f"incomplete command: intake {line}"
    known = {opt for param in command.params for opt in param.opts}
    assert set(options) <= known, f"intake {line}: unknown {set(options) - known}"


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (OPS / "README.md").read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("block", shell_blocks(), ids=lambda block: block.split("\n")[0][:40])
def test_every_shell_block_in_the_runbook_parses(block: str) -> None:
    result = subprocess.run(["bash", "-n"], input=block, text=True, capture_output=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
