"""Hierarchies: ARX's CSV format, the builders, and the policy files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from steward.risk import (
    POLICY_HIERARCHIES,
    RiskInputError,
    date_hierarchy,
    hierarchy_from_spec,
    interval_hierarchy,
    load_hierarchy,
    postcode_hierarchy,
    prefix_hierarchy,
)

CODELISTS = POLICY_HIERARCHIES.parent / "codelists.yaml"


def test_when_arx_hierarchy_loaded_then_levels_and_labels_are_arxs(adult_dir: Path) -> None:
    age = load_hierarchy(adult_dir / "adult_hierarchy_age.csv")
    assert age.attribute == "age"
    assert age.height == 5
    assert [age.generalise("39", level) for level in range(5)] == [
        "39",
        "35-39",
        "30-39",
        "20-39",
        "*",
    ]


def test_when_every_adult_hierarchy_loaded_then_heights_match_arx(adult_hierarchies) -> None:
    heights = {name: h.height for name, h in adult_hierarchies.items()}
    assert heights == {
        "sex": 2,
        "age": 5,
        "race": 2,
        "marital-status": 3,
        "education": 4,
        "native-country": 3,
        "workclass": 3,
        "occupation": 3,
        "salary-class": 2,
    }


def test_when_rows_differ_in_length_then_error_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a;x;*\nb;*\n")
    with pytest.raises(RiskInputError, match=r"bad\.csv: row 2 \('b'\) has 2 levels, row 1 has 3"):
        load_hierarchy(path)


def test_when_label_has_two_parents_then_error_names_rows(tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    path.write_text("a;x;p;*\nb;x;q;*\n")
    with pytest.raises(
        RiskInputError, match=r"row 2 puts 'x' \(level 1\) under 'q', row 1 under 'p'"
    ):
        load_hierarchy(path)


def test_when_value_repeated_then_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("a;*\na;*\n")
    with pytest.raises(RiskInputError, match=r"row 2 repeats value 'a' \(first at row 1\)"):
        load_hierarchy(path)


def test_when_hierarchy_file_missing_then_error(tmp_path: Path) -> None:
    with pytest.raises(RiskInputError, match=r"none\.csv: hierarchy file not found"):
        load_hierarchy(tmp_path / "none.csv")


def test_when_ages_banded_then_bands_nest() -> None:
    age = interval_hierarchy("age", ["17", "24", "25", "61"], [5, 10, 20])
    assert age.rows == (
        ("17", "15-19", "10-19", "0-19", "*"),
        ("24", "20-24", "20-29", "20-39", "*"),
        ("25", "25-29", "20-29", "20-39", "*"),
        ("61", "60-64", "60-69", "60-79", "*"),
    )


def test_when_widths_do_not_nest_then_error() -> None:
    with pytest.raises(RiskInputError, match="width 15 is not a multiple of 10"):
        interval_hierarchy("age", ["20"], [10, 15])


def test_when_value_not_numeric_then_interval_error_names_value() -> None:
    with pytest.raises(RiskInputError, match=r"age: value 'twenty' is not a number"):
        interval_hierarchy("age", ["twenty"], [5])


def test_when_postcodes_generalised_then_sector_district_area() -> None:
    postcodes = postcode_hierarchy("postcode", ["SW1A 1AA", "m1 1ae", "EH99 1SP", "???"])
    assert postcodes.rows == (
        ("???", "unknown", "unknown", "unknown", "*"),
        ("EH99 1SP", "EH99 1", "EH99", "EH", "*"),
        ("SW1A 1AA", "SW1A 1", "SW1A", "SW", "*"),
        ("m1 1ae", "M1 1", "M1", "M", "*"),
    )


def test_when_dates_generalised_then_month_quarter_year() -> None:
    dates = date_hierarchy("birth_date", ["2004-05-17", "2004-11-02"], ["month", "quarter", "year"])
    assert dates.rows == (
        ("2004-05-17", "2004-05", "2004-Q2", "2004", "*"),
        ("2004-11-02", "2004-11", "2004-Q4", "2004", "*"),
    )
    with pytest.raises(RiskInputError, match="is not an ISO date"):
        date_hierarchy("birth_date", ["17/05/2004"])


def test_when_prefixes_kept_then_codes_shorten() -> None:
    codes = prefix_hierarchy("course", ["CS101", "CS202"], [3, 2])
    assert codes.rows == (("CS101", "CS1", "CS", "*"), ("CS202", "CS2", "CS", "*"))


def test_when_spec_names_two_kinds_then_error() -> None:
    with pytest.raises(RiskInputError, match="exactly one of file, interval"):
        hierarchy_from_spec("age", {"interval": [5], "flat": True}, ["1"])


def test_when_spec_names_policy_file_then_it_is_loaded() -> None:
    ethnicity = hierarchy_from_spec("ethnicity", {"file": "ethnicity.csv"}, [])
    assert ethnicity.generalise("31", 1) == "Asian"
    assert ethnicity.generalise("31", 2) == "Black, Asian and minority ethnic"


@pytest.mark.parametrize("path", sorted(POLICY_HIERARCHIES.glob("*.csv")), ids=lambda p: p.name)
def test_when_policy_hierarchy_loaded_then_it_nests_and_ends_in_star(path: Path) -> None:
    hierarchy = load_hierarchy(path)
    assert {row[-1] for row in hierarchy.rows} == {"*"}


def test_when_ethnicity_hierarchy_read_then_it_covers_every_udd_code() -> None:
    codes = set(yaml.safe_load(CODELISTS.read_text())["ETHNICITY"])
    assert set(load_hierarchy(POLICY_HIERARCHIES / "ethnicity.csv").values) == codes
