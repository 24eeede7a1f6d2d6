import pytest

from core.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, parse_taxonomy


def test_default_taxonomy_round_trips_through_yaml():
    assert parse_taxonomy(DEFAULT_TAXONOMY.to_yaml()) == DEFAULT_TAXONOMY
    assert DEFAULT_TAXONOMY.category_codes()[:2] == ["S1", "S2"]
    assert "X2" in DEFAULT_TAXONOMY.category_codes()
    assert DEFAULT_TAXONOMY.severity_levels() == [0, 1, 2, 3, 4]


def test_json_is_accepted():
    text = '{"categories": [{"code": "A", "name": "Alpha"}], "severity": [{"level": 0, "name": "none"}]}'
    assert parse_taxonomy(text).category_codes() == ["A"]


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("categories: [", "not valid YAML at line"),
    ("- a\n- b", "mapping"),
    ("categories: []\nseverity: [{level: 0, name: none}]", "non-empty list"),
    ("categories: [{code: A, name: X}, {code: A, name: Y}]\nseverity: [{level: 0, name: n}]", "used twice"),
    ("categories: [{code: A}]\nseverity: [{level: 0, name: n}]", "name is missing"),
    ("categories: [{code: A, name: X}]\nseverity: [{level: 1, name: low}]", "level 0"),
    ("categories: [{code: A, name: X}]\nseverity: [{level: two, name: low}]", "whole number"),
    ("categories: [{code: A, name: X}]\nseverity: [{level: 0, name: n}]\nextra: 1", "unknown top-level"),
])
def test_invalid_taxonomies_say_what_is_wrong(text, message):
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(text)
