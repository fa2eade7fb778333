"""Errors of the service that are not tied to one domain module."""


class IntakeError(Exception):
    """Base class of the service's own errors."""


class ConfigError(IntakeError):
    """The environment or instance folder is unusable; the message names what to fix."""


class DatabaseUnavailable(IntakeError):
    """The configured database cannot be reached."""


class DatabaseNotMigrated(IntakeError):
    """The database schema is older than this code; ``intake db upgrade`` fixes it."""
