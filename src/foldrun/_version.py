"""The one place foldrun's version lives (read by details.json, fingerprints, reports)."""

__version__ = "0.1.0"
