"""The devices a load run speaks for: given by the caller (a registry) or generated.

>>> [d.device_id for d in generate_devices(5)]
['LOAD-smoke-0', 'LOAD-charging-0', 'LOAD-elevator-0', 'LOAD-occupancy-0', 'LOAD-gas-0']
>>> sorted(kind_counts(generate_devices(1000)).items())
[('charging', 250), ('elevator', 70), ('gas', 10), ('occupancy', 120), ('smoke', 550)]
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from firewatch.kernel.contract import ID_PATTERN, DeviceKind
from firewatch.simulators.errors import DeviceListError


@dataclass(frozen=True, slots=True)
class LoadDevice:
    device_id: str
    kind: DeviceKind


MIX: Final = {
    DeviceKind.SMOKE: 55,
    DeviceKind.CHARGING: 25,
    DeviceKind.OCCUPANCY: 12,
    DeviceKind.ELEVATOR: 7,
    DeviceKind.GAS: 1,
}
"""Devices per hundred in a subdistrict: detectors everywhere, charging ports in every shed,
presence sensors in the 九小场所 where people may sleep, cameras in the lifts of high-rises,
gas detectors in restaurant kitchens (30 of the sample subdistrict's ~2,950 devices)."""


def _kind_sequence(n: int) -> list[DeviceKind]:
    """`n` kinds in the MIX proportions, spread out (largest remainder, then interleaved)."""
    quotas = {kind: n * share / 100 for kind, share in MIX.items()}
    counts = {kind: int(q) for kind, q in quotas.items()}
    by_remainder = sorted(MIX, key=lambda k: (-(quotas[k] - counts[k]), list(MIX).index(k)))
    for kind in by_remainder[: n - sum(counts.values())]:
        counts[kind] += 1
    if n >= len(MIX):  # every kind present, even in a small run
        for kind in MIX:
            if counts[kind] == 0:
                donor = max(counts, key=lambda k: counts[k])
                counts[donor] -= 1
                counts[kind] = 1
    order = [DeviceKind.SMOKE, DeviceKind.CHARGING, DeviceKind.ELEVATOR, DeviceKind.OCCUPANCY,
             DeviceKind.GAS]  # fmt: skip
    left = dict(counts)
    out: list[DeviceKind] = []
    while len(out) < n:
        for kind in order:
            if left[kind]:
                out.append(kind)
                left[kind] -= 1
    return out


def generate_devices(n: int, prefix: str = "LOAD") -> tuple[LoadDevice, ...]:
    """`n` devices `PREFIX-<kind>-<i>`, every kind present when `n` >= len(MIX), mixed as in
    MIX."""
    if n < 1:
        raise DeviceListError(f"a load run needs at least one device, got {n}")
    numbers: Counter[DeviceKind] = Counter()
    devices = []
    for kind in _kind_sequence(n):
        devices.append(LoadDevice(f"{prefix}-{kind}-{numbers[kind]}", kind))
        numbers[kind] += 1
    return check_devices(devices)


def check_devices(devices: Iterable[LoadDevice]) -> tuple[LoadDevice, ...]:
    """The devices as a tuple, after checking ids against the contract and for duplicates."""
    out = tuple(devices)
    seen: set[str] = set()
    for device in out:
        if ID_PATTERN.fullmatch(device.device_id) is None:
            raise DeviceListError(f"device id {device.device_id!r} breaks [A-Za-z0-9_-]{{1,64}}")
        if device.device_id in seen:
            raise DeviceListError(f"device id {device.device_id!r} appears twice")
        seen.add(device.device_id)
    if not out:
        raise DeviceListError("a load run needs at least one device, got none")
    return out


def kind_counts(devices: Sequence[LoadDevice]) -> dict[str, int]:
    return dict(Counter(str(d.kind) for d in devices))


def _device(row: dict[str, object], where: str) -> LoadDevice:
    device_id, kind = row.get("device_id"), row.get("kind")
    if not isinstance(device_id, str) or kind not in set(DeviceKind):
        raise DeviceListError(f"{where}: expected device_id and a kind of the contract, got {row}")
    return LoadDevice(device_id, DeviceKind(str(kind)))


def devices_from_registry(path: Path) -> tuple[LoadDevice, ...]:
    """The devices of a registry (CONTRACT.md section 2): a JSON document, a device CSV, or a
    folder holding `registry.json`, `devices.csv` or `csv/devices.csv`."""
    if path.is_dir():
        names = ("registry.json", "devices.csv", "csv/devices.csv")
        candidates = [path / name for name in names] + sorted(path.glob("*.json"))
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DeviceListError(f"{path}: no registry.json, devices.csv or JSON file in it")
        path = found
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeviceListError(f"{path}: cannot be read: {exc}") from None
    if path.suffix.lower() == ".csv":
        rows: list[dict[str, object]] = list(csv.DictReader(text.splitlines()))
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeviceListError(f"{path}: not valid JSON: {exc}") from None
        raw = document.get("devices") if isinstance(document, dict) else None
        if not isinstance(raw, list):
            raise DeviceListError(f"{path}: expected an object with a 'devices' list")
        rows = [r if isinstance(r, dict) else {"entry": r} for r in raw]
    return check_devices(_device(row, f"{path} device {i + 1}") for i, row in enumerate(rows))
