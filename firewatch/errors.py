"""The composition root's exceptions; each message names the key, migration, user or stage.

    FirewatchError           base of the errors of `firewatch` itself
     ├── ConfigError         the configuration cannot be used (every bad key and its form)
     ├── MigrationError      the schema cannot be brought up to date (names the migration)
     ├── SchemaMissingError  the database has not been migrated (says what to run)
     ├── UserError           a user cannot be created, found or revoked (names the user)
     └── InjectedFaultError  a stage made to fail on purpose by the test-only fault hook

The sub-packages keep their own: `firewatch.api.errors` (`ApiError`, `ApiServerError`),
`firewatch.embedded.errors` (`EmbeddedServiceError`), `firewatch.registry.errors`
(`RegistryError`, `RegistryImportError`).
"""

from __future__ import annotations


class FirewatchError(Exception):
    """Base of the errors of `firewatch` itself (not of its stages or sub-packages)."""


class ConfigError(FirewatchError):
    """The configuration cannot be used; the message names every bad key and its expected form."""


class MigrationError(FirewatchError):
    """The schema cannot be brought up to date; the message names the migration."""


class SchemaMissingError(FirewatchError):
    """The database has not been migrated; the message says what to run."""


class UserError(FirewatchError):
    """A user cannot be created, found or revoked; the message names the user."""


class InjectedFaultError(FirewatchError):
    """A stage made to fail on purpose by the test-only fault hook (`FW_TEST_FAULT`); the message
    names the stage and the device or venue."""
