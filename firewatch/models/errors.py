"""The models stage's exceptions; each message names the artifact or the data that failed.

ModelError               base of every models error
 ├── ArtifactError       a model artifact that cannot be used (corrupted, foreign, unknown)
 └── DataMissingError    the shared real-data folder or one of its files or columns is missing
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of the models stage's errors."""


class ArtifactError(ModelError):
    """A model artifact that cannot be used; the message names it and says why."""


class DataMissingError(ModelError):
    """Real test data is not where it should be; the message names the file or the column."""
