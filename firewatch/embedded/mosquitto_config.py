"""Render `ingest/broker/mosquitto.conf` (the engine's broker settings) for one Mosquitto process.

>>> text = render_mosquitto_config(18830, Path("/var/lib/fw-broker"))
>>> "listener 18830 127.0.0.1" in text, "allow_anonymous true" in text
(True, True)
>>> "persistence_location /var/lib/fw-broker/" in text
True
>>> "max_queued_messages 0" in text
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Final

from firewatch.embedded.ports import LOOPBACK

TEMPLATE_PACKAGE: Final = "firewatch.ingest.broker"
TEMPLATE_NAME: Final = "mosquitto.conf"


def _line_value(value: str, what: str) -> str:
    # Mosquitto reads one option per line; a path with a line break would inject options.
    if "\n" in value or "\r" in value:
        raise ValueError(f"{what} must not contain a line break: {value!r}")
    return value


def render_mosquitto_config(
    port: int,
    data_dir: Path,
    password_file: Path | None = None,
    acl_file: Path | None = None,
    bind_address: str = LOOPBACK,
) -> str:
    """The configuration text: listener on bind_address:port, persistence in data_dir.

    Without a password file anonymous clients are allowed, which is only acceptable because the
    listener is on loopback; with one, anonymous clients are refused and the ACL file (if any)
    limits each user to its topics.
    """
    if not 0 < port < 65536:
        raise ValueError(f"port must be 1..65535, got {port}")
    if acl_file is not None and password_file is None:
        raise ValueError("an ACL file needs a password file: ACL entries are per user")
    if password_file is None:
        auth = "allow_anonymous true"
    else:
        auth = "allow_anonymous false\npassword_file " + _line_value(
            str(password_file), "password_file"
        )
        if acl_file is not None:
            auth += "\nacl_file " + _line_value(str(acl_file), "acl_file")
    location = _line_value(str(data_dir), "data_dir").rstrip("/") + "/"
    template = Template(files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_NAME).read_text("utf-8"))
    return template.substitute(
        listener=f"listener {port} {_line_value(bind_address, 'bind_address')}",
        auth=auth,
        persistence_location=f"persistence_location {location}",
    )
