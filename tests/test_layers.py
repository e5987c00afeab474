"""The layering is checked, not hoped for: `lint-imports` with the contracts in pyproject.toml
(`[tool.importlinter]`): the kernel imports nothing of ours; ingest → rules → models → alerting /
cases only downstream; simulators and dashboards beside them on the kernel alone; the
composition root (`firewatch`) on top, imported by nobody."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint(*args: str) -> subprocess.CompletedProcess[str]:
    linter = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(linter), "--no-cache", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def test_the_import_contracts_hold() -> None:
    done = lint()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_a_contract() -> None:
    """The contracts do bite: a stage module that imports the composition root is refused."""
    probe = ROOT / "ingest" / "_layer_probe.py"
    probe.write_text("from firewatch import config  # an upward import\n")
    try:
        done = lint()
    finally:
        probe.unlink()
    assert done.returncode != 0
    assert "ingest._layer_probe -> firewatch.config" in done.stdout, done.stdout[-3000:]
