"""Where the MQTT broker is: what every stage that connects needs, and nothing of how it is
configured or started (that is the composition root's `firewatch.services`).

>>> b = BrokerAddress.from_url("mqtts://fw:secret@broker.example:8884")
>>> b.host, b.port, b.username, b.tls
('broker.example', 8884, 'fw', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    mqtt5: bool = True
    """False only for the embedded Python broker (amqtt), which speaks MQTT 3.1.1 alone."""

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=parts.username,
            password=parts.password,
            tls=tls,
        )
