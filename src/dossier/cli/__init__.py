"""The ``dossier`` command line (typer + rich)."""
