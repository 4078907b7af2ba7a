"""``python -m dossier`` == ``dossier``."""

from dossier.cli.main import main

main()
