"""Names, paths, fingerprints and writes of the files the editor edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from nurture.authoring.files import (
    BadName,
    campaign_path,
    config_path,
    fingerprint,
    normalise,
    template_folder,
    write_atomically,
)
from nurture.platform.config import Settings


@pytest.fixture
def folders(tmp_path: Path) -> Settings:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "spring.yaml").write_text("id: spring-drip\nname: Spring\n")
    (campaigns / "broken.yml").write_text("id: [\n")
    templates = tmp_path / "templates"
    (templates / "welcome").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (templates / "escape").symlink_to(tmp_path / "outside")
    return Settings(
        instance_path=tmp_path,
        database_url="sqlite://",
        secret_key="k",
        campaigns_path=campaigns,
        templates_path=templates,
    )


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "a/b", "", "Spring", "x\x00", "-x", "a" * 101, "x\n", ".."],
)
def test_campaign_names_outside_the_alphabet_are_refused(folders: Settings, name: str) -> None:
    with pytest.raises(BadName):
        campaign_path(folders, name)


def test_a_campaign_is_found_by_its_id_then_its_file_name(folders: Settings) -> None:
    root = folders.campaigns_path
    assert campaign_path(folders, "spring-drip") == root / "spring.yaml"
    assert campaign_path(folders, "broken") == root / "broken.yml"
    assert campaign_path(folders, "new-one") == root / "new-one.yaml"


@pytest.mark.parametrize("name", ["..", "_layouts", "a/b", "/etc", "x\x00", "", "escape"])
def test_template_names_stay_inside_the_templates_folder(folders: Settings, name: str) -> None:
    with pytest.raises(BadName):
        template_folder(folders, name)


def test_template_and_config_paths(folders: Settings) -> None:
    assert template_folder(folders, "welcome") == folders.templates_path / "welcome"
    assert config_path(folders, "team") == folders.sales_team_file
    with pytest.raises(BadName):
        config_path(folders, "passwd")


def test_texts_get_lf_line_ends_and_keep_the_files_final_newline() -> None:
    assert normalise("a\r\nb") == "a\nb\n"
    assert normalise("a\r\nb\r\n\r\n") == "a\nb\n\n"
    assert normalise("a\nb", on_disk="a\nb\n") == "a\nb\n"
    assert normalise("a\nb", on_disk="no final newline") == "a\nb"
    assert normalise("") == ""


def test_a_fingerprint_tells_a_missing_file_from_an_empty_one() -> None:
    assert fingerprint({"a": None}) != fingerprint({"a": ""})
    assert fingerprint({"a": "x", "b": None}) == fingerprint({"b": None, "a": "x"})
    assert fingerprint({"a": "x"}) != fingerprint({"a": "y"})


def test_a_write_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomically(path, "new\n")
    assert path.read_text() == "new\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]  # no temporary file left
