"""geomap: Shanghai's cooperation agreements with the cities, districts and zones around it."""

__version__ = "0.1.0"
