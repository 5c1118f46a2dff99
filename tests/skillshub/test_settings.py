from pathlib import Path

import pytest
from pydantic import ValidationError

from skillshub.settings import Settings


def test_defaults_and_env_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKILLSHUB_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SKILLSHUB_BASE_URL", "https://badges.example.org/")
    settings = Settings()
    assert settings.data_dir == tmp_path / "d"
    assert settings.base_url == "https://badges.example.org"
    assert settings.sqlalchemy_url == f"sqlite:///{(tmp_path / 'd' / 'skillshub.db').resolve()}"
    assert settings.is_public_https


def test_database_url_overrides_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLSHUB_DATABASE_URL", "postgresql+psycopg://u@db/x")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@db/x"


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "/relative"])
def test_base_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ValidationError, match="BASE_URL"):
        Settings(base_url=url)


def test_local_base_url_is_not_public() -> None:
    assert not Settings(base_url="http://127.0.0.1:8000").is_public_https
    assert not Settings(base_url="https://localhost:8443").is_public_https


def test_master_key_from_env_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text("from-file\n")
    assert Settings(data_dir=tmp_path).resolved_master_key() == "from-file"
    assert Settings(data_dir=tmp_path, master_key="from-env").resolved_master_key() == "from-env"
    assert Settings(data_dir=tmp_path / "empty").resolved_master_key() is None


def test_master_key_not_in_repr(tmp_path: Path) -> None:
    assert "s3cret" not in repr(Settings(data_dir=tmp_path, master_key="s3cret"))
