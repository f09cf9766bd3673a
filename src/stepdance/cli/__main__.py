"""``python -m stepdance.cli``: the same commands as ``stepdance``."""

from stepdance.cli.main import app

app()
