"""Roles and what each may do: one table, read by the API for every request.

>>> allowed(Role.STATION, Permission.ALERTS_ACK), allowed(Role.VIEWER, Permission.ALERTS_ACK)
(True, False)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    ADMIN = "admin"  # the subdistrict's system administrator
    OPERATOR = "operator"  # control-room staff (城运中心)
    STATION = "station"  # micro fire station members (微型消防站)
    INSPECTOR = "inspector"  # grid inspectors (网格员) and fire-safety inspectors
    DEPARTMENT = "department"  # a department handling its part of a case
    VIEWER = "viewer"  # read only: the office, the city platform


class Permission(StrEnum):
    ALERTS_READ = "alerts:read"
    ALERTS_ACK = "alerts:ack"  # acknowledge, report arrival and outcome
    ALERTS_MANAGE = "alerts:manage"  # confirm, resolve, dismiss
    SILENCES_WRITE = "silences:write"
    CASES_READ = "cases:read"
    CASES_MOVE = "cases:move"  # which moves a role may make is the cases stage's own table
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    REJECTED_READ = "rejected:read"
    REPORTS_READ = "reports:read"
    RISK_READ = "risk:read"
    COVERAGE_READ = "coverage:read"  # inspection coverage of the venues
    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"


_READ: Final = frozenset(
    {
        Permission.ALERTS_READ,
        Permission.CASES_READ,
        Permission.REGISTRY_READ,
        Permission.RISK_READ,
        Permission.COVERAGE_READ,
    }
)

PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: _READ
    | {
        Permission.ALERTS_ACK,
        Permission.ALERTS_MANAGE,
        Permission.SILENCES_WRITE,
        Permission.CASES_MOVE,
        Permission.REJECTED_READ,
        Permission.REPORTS_READ,
    },
    Role.STATION: _READ | {Permission.ALERTS_ACK, Permission.CASES_MOVE},
    Role.INSPECTOR: _READ | {Permission.CASES_MOVE},
    Role.DEPARTMENT: _READ | {Permission.CASES_MOVE},
    Role.VIEWER: _READ | {Permission.REPORTS_READ},
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]
