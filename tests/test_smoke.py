from typer.testing import CliRunner

from stepdance.cli.main import app


def test_version_command_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == "0.1.0"
