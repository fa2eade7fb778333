"""Headline figures: each benchmark prints its key numbers as one machine-readable line each,
which ``bench/run.py`` gathers into the summary table of BENCHMARKS.md.

A headline names the figure, its value, the target, and the baseline measured in the same
run (bare HPKE, bare Flask, one INSERT, ...), so the ratio is computed from numbers taken
side by side on the same machine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

PREFIX = "BENCH-HEADLINE "


@dataclass(frozen=True)
class Headline:
    bench: str
    figure: str
    value: float
    unit: str
    target: str
    met: bool
    baseline: float | None = None
    baseline_label: str = ""
    # How the ratio reads: "value/baseline" (a cost next to its floor) or "baseline/value".
    ratio_of: str = "value/baseline"

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0 or self.value == 0:
            return None
        if self.ratio_of == "value/baseline":
            return self.value / self.baseline
        return self.baseline / self.value


def emit(headline: Headline) -> None:
    """Print ``headline`` on stdout as one line that ``bench/run.py`` picks out."""
    print(PREFIX + json.dumps(asdict(headline), ensure_ascii=False), flush=True)


def parse(line: str) -> Headline | None:
    if not line.startswith(PREFIX):
        return None
    return Headline(**json.loads(line[len(PREFIX):]))
