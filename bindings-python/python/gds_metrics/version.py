"""The installed version of gds-metrics (0.2.4 had this module too)."""

from importlib.metadata import version

__version__ = version("gds-metrics")
