"""Configuration: shipped defaults load and validate; a bad override names the file and key."""

from pathlib import Path

import pytest

from ksz_reports.core.config import load_config
from ksz_reports.core.errors import ConfigError


def test_shipped_config_loads():
    cfg = load_config()
    assert cfg.settings.disclosure.threshold == 5
    assert {"ll", "rmi", "gpmi", "rmh", "ell", "spi", "pension", "ses_position"} <= set(
        cfg.indicators
    )
    assert cfg.indicators["ll"].headline.per == 1000
    assert cfg.indicators["increased_reimbursement"].headline.per == 100


def test_code_lookup_accepts_codes_labels_and_aliases_in_any_case():
    codes = load_config().codes
    assert codes.lookup("sex", "Vrouw") == "F"
    assert codes.lookup("sex", "HOMMES") == "M"
    assert codes.lookup("sex", "Totaal") == "total"
    assert codes.lookup("family_category", "Met gezin ten laste") == "FAM"
    assert codes.lookup("ses_position", "Werkzoekend na studies (wachtuitkering)") == "09"
    assert codes.lookup("age_class", "18-24 ans") == "18-24"
    assert codes.lookup("sex", "unknown") is None


def test_period_dependent_label():
    codes = load_config().codes
    assert codes.label("ses_position", "09", "nl", 2010).endswith("(wachtuitkering)")
    assert codes.label("ses_position", "09", "nl", 2021).endswith("(inschakelingsuitkering)")


def test_indicator_lookup_by_label():
    cfg = load_config()
    assert cfg.indicator_lookup("Leefloon (LL)") == "ll"
    assert cfg.indicator_lookup("pensioentrekkenden") == "pension"
    assert cfg.indicator_lookup("nonsense") is None


def _override(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_override_merges_key_by_key(tmp_path):
    cfg = load_config(_override(tmp_path, "settings.yaml", "disclosure:\n  threshold: 10\n"))
    assert cfg.settings.disclosure.threshold == 10
    assert cfg.settings.cutoffs.min_coverage == 1.0  # untouched default
    assert cfg.hash != load_config().hash


def test_bad_value_names_file_and_key(tmp_path):
    folder = _override(tmp_path, "settings.yaml", "disclosure:\n  threshold: -1\n")
    with pytest.raises(ConfigError) as err:
        load_config(folder)
    assert str(err.value) == (
        f"{folder / 'settings.yaml'}, key 'disclosure.threshold': "
        "Input should be greater than or equal to 1."
    )


def test_unknown_key_is_an_error(tmp_path):
    folder = _override(tmp_path, "indicators.yaml", "ll:\n  lag_monthz: 3\n")
    with pytest.raises(ConfigError, match=r"indicators.yaml, key 'll.lag_monthz': Extra inputs"):
        load_config(folder)


def test_bad_denominator_age_class(tmp_path):
    folder = _override(
        tmp_path,
        "indicators.yaml",
        "ll:\n  denominators:\n    - {id: x, age_class: 'eighteen', per: 1000}\n",
    )
    with pytest.raises(ConfigError, match=r"key 'll.denominators': not an age class: 'eighteen'"):
        load_config(folder)


def test_invalid_yaml_reports_line(tmp_path):
    folder = _override(tmp_path, "settings.yaml", "disclosure: [\n")
    with pytest.raises(
        ConfigError, match=r"settings.yaml: not valid YAML \(line \d+, column \d+\)"
    ):
        load_config(folder)


def test_missing_override_folder(tmp_path):
    with pytest.raises(ConfigError, match="configuration folder does not exist"):
        load_config(tmp_path / "nope")
