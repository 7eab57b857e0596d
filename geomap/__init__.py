"""geomap: Shanghai's cooperation agreements with the cities, districts and zones around it."""

__version__ = "0.1.0"


class ConfigError(ValueError):
    """A setting (GEOMAP_* in the environment or the app config) that cannot work.

    Raised at start-up so the operator sees one clear line instead of a failing page."""
