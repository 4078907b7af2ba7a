"""dossier: live account research you can talk to while it runs."""

from __future__ import annotations

__version__ = "0.1.0"

from dossier.client import Client
from dossier.core.events import Event
from dossier.core.types import Finding
from dossier.settings import Settings

__all__ = ["Client", "Event", "Finding", "Settings", "__version__"]
