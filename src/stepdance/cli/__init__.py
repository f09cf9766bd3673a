"""The ``stepdance`` command line (typer + rich)."""
