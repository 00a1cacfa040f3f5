"""aidc: the toolkit's own program (offline engine, plan documents, CLI)."""

__version__ = "0.1.0"
