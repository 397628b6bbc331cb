"""Social inbox router: classifies mentions and delivers them to the department that owns them."""

__version__ = "0.1.0"
