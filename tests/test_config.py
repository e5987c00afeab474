"""Configuration: TOML plus FIREWATCH_* variables, strict, with errors that name the key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from firewatch import cli, logs
from firewatch.config import load
from firewatch.errors import ConfigError
from firewatch.logs import RedactingFilter

TOML = """
[database]
url = "postgresql://fw:file-secret@db.example:5432/fw"

[ingest]
batch_size = 500

[general]
timezone = "Europe/Berlin"
"""


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "firewatch.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def test_defaults_with_nothing_configured() -> None:
    config = load(environ={})
    assert config.database.url is None  # unset: embedded PostgreSQL
    assert config.mqtt.url is None
    assert config.api.bind == "127.0.0.1:8080"
    assert config.general.timezone == "Asia/Shanghai"


def test_environment_wins_over_the_file(toml_file: Path) -> None:
    config = load(
        toml_file,
        environ={
            "FIREWATCH_DATABASE_URL": "postgresql://env@127.0.0.1:5432/envdb",
            "FIREWATCH_INGEST__BATCH_SIZE": "7000",
        },
    )
    assert config.database.url is not None
    assert config.database.url.get_secret_value().endswith("/envdb")
    assert config.ingest.batch_size == 7000
    assert config.general.timezone == "Europe/Berlin"  # from the file, not overridden


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        # a contract variable with a URL of the wrong scheme
        (
            {"FIREWATCH_MQTT_URL": "http://broker"},
            "mqtt.url (from FIREWATCH_MQTT_URL): expected mqtt://",
        ),
        # a typo in a generic override must not fall back silently to the default
        (
            {"FIREWATCH_INGEST__BATCH_SIZ": "5"},
            "ingest.batch_siz (from FIREWATCH_INGEST__BATCH_SIZ): unknown key",
        ),
        # a number out of its bounds
        (
            {"FIREWATCH_INGEST__BATCH_SIZE": "0"},
            "ingest.batch_size (from FIREWATCH_INGEST__BATCH_SIZE): Input should be greater than or equal to 1",
        ),
        # a time zone that does not exist
        ({"FIREWATCH_TIMEZONE": "Asia/Atlantis"}, "expected an IANA time zone"),
        # a variable that is neither in the contract nor of the generic form
        ({"FIREWATCH_DB_URL": "x"}, "unknown environment variable(s) FIREWATCH_DB_URL"),
        # an admin token too short to be a secret
        ({"FIREWATCH_ADMIN_TOKEN": "abc"}, "at least 16 characters"),
        # a bind address without a port
        ({"FIREWATCH_API_BIND": "localhost"}, "api.bind (from FIREWATCH_API_BIND)"),
    ],
)
def test_bad_values_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(environ=environ)
    assert message in str(raised.value)


def test_unknown_key_in_the_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fw.toml"
    path.write_text("[mqtt]\nhost = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mqtt.host \(from .*fw.toml\): unknown key"):
        load(path, environ={})


def test_missing_and_broken_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[database\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(broken, environ={})


def test_config_show_masks_secrets(
    toml_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIREWATCH_MQTT_URL", "mqtt://engine:mqtt-secret@127.0.0.1:1883")
    monkeypatch.setenv("FIREWATCH_ADMIN_TOKEN", "admin-token-0123456789")
    assert cli.main(["--config", str(toml_file), "config", "show"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["database"]["url"] == "postgresql://fw:***@db.example:5432/fw"
    assert shown["mqtt"]["url"] == "mqtt://engine:***@127.0.0.1:1883"
    assert shown["api"]["admin_token"] == "***"
    for secret in ("file-secret", "mqtt-secret", "admin-token-0123456789"):
        assert secret not in out


def test_config_error_exits_2_with_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIREWATCH_MQTT_URL", "tcp://x")
    assert cli.main(["config", "show"]) == 2
    assert "mqtt.url" in capsys.readouterr().err


def test_logs_never_carry_phones_or_passwords(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("firewatch.test")
    caplog.handler.addFilter(RedactingFilter())
    logger.warning("sms to %s through %s", "+8613912345678", "mqtt://u:pw123@h:1883")
    assert "+8613912345678" not in caplog.text
    assert "pw123" not in caplog.text
    assert "+86*******5678" in caplog.text


@pytest.mark.parametrize("style", ["text", "json"])
def test_neither_log_style_writes_a_phone_or_password_even_in_a_traceback(
    style: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("INFO", style)
        try:
            _refused()
        except ConnectionError:
            logging.getLogger("firewatch.test").exception("sms to %s failed", "+8613912345678")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    err = capsys.readouterr().err
    assert "+8613912345678" not in err and "pw123" not in err
    assert "ConnectionError" in err, "the traceback is kept, masked"
    if style == "json":
        line = json.loads(err.strip().splitlines()[0])
        assert (line["level"], line["logger"]) == ("ERROR", "firewatch.test")
        assert line["message"] == "sms to +86*******5678 failed"


def _refused() -> None:
    raise ConnectionError("refused by mqtt://u:pw123@h:1883 for +8613912345678")
