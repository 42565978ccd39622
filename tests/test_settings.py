"""Settings are one list (dashboard/config.SETTINGS); the README's Settings table is that list."""

from __future__ import annotations

import re

import pytest

from dashboard import config

from conftest import ROOT


def readme_settings() -> dict[str, str]:
    """The README's Settings table: variable -> default, as written."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Settings"):].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(O2R_[A-Z_]+)`[^|]*\|[^|]*\| (.*?) \|$", table, re.MULTILINE)
    return {name: default.strip("`") for name, default in rows}


def test_the_readme_lists_every_setting_with_its_default():
    assert readme_settings() == {s.name: s.shown_default() for s in config.SETTINGS}


def test_a_mistyped_setting_names_itself(monkeypatch):
    monkeypatch.setenv("O2R_LOCKOUT_MINUTES", "ten")
    with pytest.raises(ValueError, match="O2R_LOCKOUT_MINUTES is 'ten'"):
        config.setting("O2R_LOCKOUT_MINUTES")
    monkeypatch.setenv("O2R_SHRINK_THRESHOLD", "120%")
    with pytest.raises(ValueError, match="O2R_SHRINK_THRESHOLD is '120%': set it to a share"):
        config.setting("O2R_SHRINK_THRESHOLD")


def test_an_upload_limit_set_to_nonsense_keeps_its_default(monkeypatch):
    monkeypatch.setenv("O2R_MAX_COLUMNS", "many")
    assert config.setting("O2R_MAX_COLUMNS") == 500
    monkeypatch.setenv("O2R_MAX_COLUMNS", "40")
    assert config.setting("O2R_MAX_COLUMNS") == 40


def test_a_mistyped_pack_ahead_setting_keeps_building_ahead(monkeypatch):
    for text, expected in (("no", False), ("off", False), ("YES", True), ("maybe", True)):
        monkeypatch.setenv("O2R_PACK_AHEAD", text)
        assert config.setting("O2R_PACK_AHEAD") is expected, text
