import pytest

from core.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, parse_taxonomy, taxonomy_from_json


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


def test_category_examples_are_optional_and_parsed():
    text = ("categories:\n"
            "  - {code: A, name: Alpha, examples: [one example, 'another: with colon']}\n"
            "  - {code: B, name: Beta, examples: just one}\n"
            "  - {code: D, name: Delta}\n"
            "severity: [{level: 0, name: none}]")
    taxonomy = parse_taxonomy(text)
    assert [c.examples for c in taxonomy.categories] == [
        ("one example", "another: with colon"), ("just one",), ()]
    # Stored as JSON and read back (projects keep the taxonomy as JSON).
    assert taxonomy_from_json(taxonomy.to_json()) == taxonomy
    assert "examples" not in taxonomy.to_dict()["categories"][2]


def test_the_default_taxonomy_has_some_examples():
    with_examples = [c for c in DEFAULT_TAXONOMY.categories if c.examples]
    assert len(with_examples) >= 3
    assert "examples:" in DEFAULT_TAXONOMY.to_yaml()


@pytest.mark.parametrize("examples, message", [
    ("{a: 1}", "examples must be a list of texts"),
    ("[ok, [nested]]", "examples item 2 must be text"),
    ("[ok, '']", "examples item 2 is empty"),
])
def test_bad_examples_say_what_is_wrong(examples, message):
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(f"categories: [{{code: A, name: X, examples: {examples}}}]\n"
                       "severity: [{level: 0, name: n}]")
