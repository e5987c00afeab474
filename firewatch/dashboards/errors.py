"""The dashboards' exceptions; each message names the board, variable, macro or call that failed.

DashboardError               base of every dashboards error
 ├── MacroError              a panel's SQL uses a macro or variable that cannot be expanded
 ├── ProbeError              a board cannot be probed on this database
 ├── RollupError             the rollups cannot be maintained on this connection or schema
 ├── DataSourceError         the database URL cannot become a Grafana data source
 └── DashboardPublishError   Grafana refused a call or could not be reached
"""

from __future__ import annotations


class DashboardError(Exception):
    """Base of the dashboards' errors."""


class MacroError(DashboardError):
    """A panel's SQL uses a macro or variable that cannot be expanded; the message names it."""


class ProbeError(DashboardError):
    """A board cannot be probed on this database; the message names the board and variable."""


class RollupError(DashboardError):
    """The rollups cannot be maintained on this connection or schema; the message says why."""


class DataSourceError(DashboardError):
    """The database URL cannot be turned into a Grafana data source; the message says why."""


class DashboardPublishError(DashboardError):
    """Grafana refused or could not be reached; the message names the call and the answer."""
