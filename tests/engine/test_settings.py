from __future__ import annotations

from pathlib import Path

from stepdance.settings import Settings


def test_defaults_need_nothing_installed() -> None:
    settings = Settings.from_env({})
    assert settings.store == f"sqlite:///{Path('.stepdance/engine.db').resolve()}"
    assert (settings.lease_seconds, settings.region, settings.account) == (5.0, "us-east-1", "123456789012")


def test_environment_variables_override_the_defaults(tmp_path: Path) -> None:
    env = {
        "STEPDANCE_DATA_DIR": str(tmp_path),
        "STEPDANCE_LEASE_SECONDS": "1.5",
        "STEPDANCE_POLL_SECONDS": "0.1",
        "STEPDANCE_REGION": "eu-west-1",
        "STEPDANCE_RETRY_SCALE": "0.05",
    }
    settings = Settings.from_env(env)
    assert settings.store == f"sqlite:///{tmp_path / 'engine.db'}"
    assert (settings.lease_seconds, settings.poll_seconds, settings.region) == (1.5, 0.1, "eu-west-1")
    assert settings.retry_scale == 0.05 and Settings.from_env({}).retry_scale == 1.0
    assert Settings.from_env({"STEPDANCE_STORE": "memory://"}).store == "memory://"
    assert (
        Settings.from_env({"STEPDANCE_STORE": "memory://"}).with_store("postgresql://db/x").store
        == "postgresql://db/x"
    )


def test_to_env_gives_another_process_the_same_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, lease_seconds=2.0, retry_scale=0.05).with_urls(bus="nats://h:4222")
    assert Settings.from_env(settings.to_env()) == settings
    assert "STEPDANCE_STORE" not in settings.to_env()  # the default, from the data directory
