"""Every board of the control room, in the order they are listed."""

from __future__ import annotations

from firewatch.dashboards.boards import cases, control_room, devices, inspections, venue
from firewatch.dashboards.model import Board


def all_boards(zone: str) -> tuple[Board, ...]:
    """The boards, with local days and inspection cycles cut in `zone` (general.timezone)."""
    return (
        control_room.board(),
        cases.board(zone),
        inspections.board(zone),
        devices.board(),
        venue.board(),
    )
