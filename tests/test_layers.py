"""The layering is checked, not hoped for: `lint-imports` with the contracts in pyproject.toml
(`[tool.importlinter]`): the kernel imports nothing of ours; ingest → rules → models → alerting /
cases only downstream; simulators and dashboards beside them on the kernel alone; the
composition root (firewatch's own modules) on top, imported by no stage. Everything installs
under one import name, `firewatch`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
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
    probe = ROOT / "firewatch" / "ingest" / "_layer_probe.py"
    probe.write_text("from firewatch import config  # an upward import\n")
    try:
        done = lint()
    finally:
        probe.unlink()
    assert done.returncode != 0
    assert "firewatch.ingest._layer_probe -> firewatch.config" in done.stdout, done.stdout[-3000:]


STAGES = {"kernel", "ingest", "rules", "models", "alerting", "cases", "simulators", "dashboards"}


def test_every_module_of_the_composition_root_is_in_the_contract() -> None:
    """A new module of firewatch/ is either a stage or named in the contract that keeps the
    stages from importing the composition root; none slips between."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (root,) = [c for c in contracts if c["name"].startswith("the composition root")]
    listed = {m.removeprefix("firewatch.") for m in root["forbidden_modules"]}
    here = ROOT / "firewatch"
    modules = {p.stem for p in here.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in here.iterdir() if (p / "__init__.py").exists()
    }
    assert modules - STAGES == listed
    assert set(root["source_modules"]) == {f"firewatch.{s}" for s in STAGES}


def test_nothing_of_ours_installs_beside_firewatch() -> None:
    """One import root: only `firewatch` is a top-level package of the distribution."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == ["firewatch*"]
    tops = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert tops <= {"firewatch", "tests", "bench"}, tops
