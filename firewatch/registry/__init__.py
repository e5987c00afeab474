"""The registry of stations, venues and devices (CONTRACT.md section 2), and its import."""

from firewatch.registry.errors import RegistryError, RegistryImportError
from firewatch.registry.importer import import_document, import_registry
from firewatch.registry.phones import mask_phone
from firewatch.registry.problems import Problem
from firewatch.registry.records import Device, Station, Venue
from firewatch.registry.store import Counts, ImportReport

__all__ = [
    "Counts",
    "Device",
    "ImportReport",
    "Problem",
    "RegistryError",
    "RegistryImportError",
    "Station",
    "Venue",
    "import_document",
    "import_registry",
    "mask_phone",
]
