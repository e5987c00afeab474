"""Every benchmark starts as documented: `python bench/NAME.py --help` from the repository root,
and no bench file shadows one of our packages (Python puts `bench/` first on the path, so a
`bench/firewatch.py` would be imported instead of the `firewatch` package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
PACKAGES = {p.parent.name for p in ROOT.glob("*/__init__.py")}


def test_no_bench_shadows_a_package() -> None:
    assert BENCHES
    assert not {p.stem for p in BENCHES} & PACKAGES


@pytest.mark.parametrize("bench", BENCHES, ids=[p.stem for p in BENCHES])
def test_bench_answers_help_from_the_repository_root(bench: Path) -> None:
    done = subprocess.run(
        [sys.executable, f"bench/{bench.name}", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--quick" in done.stdout, done.stdout
