"""Preference rules and the HH-RLHF layout, tested directly."""
import pytest

from core import preference
from core.formats import FormatProblem, parse_hh_transcript, split_hh_pair
from core.preference import Judgment, judgment_problems, rationale_required


def test_left_side_is_random_across_items_and_stable_per_person_and_item():
    sides = [preference.left_response(7, item) for item in range(400)]
    assert 150 < sides.count("a") < 250
    assert preference.left_response(7, 11) == preference.left_response(7, 11)
    assert {preference.left_response(u, 3) for u in range(40)} == {"a", "b"}


@pytest.mark.parametrize("left", ["a", "b"])
@pytest.mark.parametrize("screen", preference.SCALE)
def test_screen_scores_round_trip(left, screen):
    assert preference.to_screen(preference.to_canonical(screen, left), left) == screen


def test_left_better_with_b_on_the_left_means_b_better():
    assert preference.to_canonical(-3, "b") == -3   # canonical negative = B better
    assert preference.to_canonical(-3, "a") == 3
    assert preference.overall_from_screen("left", "b") == "b"
    assert preference.overall_from_screen("right", "b") == "a"
    assert preference.overall_from_screen("tie", "b") == "tie"


@pytest.mark.parametrize("rule, harm, help_, required", [
    ("always", 0, 0, True), ("never", 3, -3, False),
    ("strong", 3, 1, True), ("strong", 2, -2, False),
    ("conflict", 2, -1, True), ("conflict", 3, 3, False),
    ("strong_or_conflict", -3, -1, True), ("strong_or_conflict", 1, -1, True),
    ("strong_or_conflict", 2, 1, False),
])
def test_rationale_rules(rule, harm, help_, required):
    assert rationale_required(rule, harm, help_) is required


def test_judgment_problems_name_what_is_missing():
    problems = judgment_problems(Judgment("a", None, None, None), "never")
    assert len(problems) == 3
    strong = Judgment("a", 3, 1, "a")
    assert any("strong preference" in p for p in judgment_problems(strong, "strong"))
    assert judgment_problems(Judgment("a", 3, 1, "a", "clearer and safe"), "strong") == []
    assert any("response A safe or unsafe" in p
               for p in judgment_problems(Judgment("a", 1, 1, "a"), "never", safety_required=True))
    # Messages name the side as it was on screen: with B on the left, stored B is screen A.
    flipped = Judgment("b", 1, 1, "a", safety={"a": {"is_safe": True, "categories": []},
                                                "b": {"is_safe": False, "categories": []}})
    assert judgment_problems(flipped, "never", safety_required=True) == [
        "response A is unsafe: pick at least one hazard category"]


def test_hh_transcripts_split_into_shared_turns_and_two_replies():
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant: Sure, here is how."
    rejected = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant: No."
    turns, good, bad = split_hh_pair(chosen, rejected)
    assert turns == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                     {"role": "user", "content": "Help me?"}]
    assert (good, bad) == ("Sure, here is how.", "No.")
    with pytest.raises(FormatProblem, match="differ before"):
        split_hh_pair(chosen, "\n\nHuman: Other\n\nAssistant: No.")
    with pytest.raises(FormatProblem, match="does not end with an Assistant"):
        split_hh_pair("\n\nHuman: Hi", "\n\nHuman: Hi")
    with pytest.raises(FormatProblem):
        parse_hh_transcript("no turns at all")
