"""Inter-annotator agreement (issue 11): core/agreement.py against published worked examples,
its behaviour on data that cannot support a coefficient, and `cli.py agreement` on a real
project database.

Sources and the precision they state (each test asserts to half a unit of the last stated
digit):
- Krippendorff, K. (2011) "Computing Krippendorff's Alpha-Reliability", section C (4 observers,
  12 units, values 1-5, one unit rated once): nominal .743, ordinal .815, interval .849, with
  40 pairable values in 11 units. The same data and values are in the docstring of the
  `krippendorff` package's `alpha` (0.743 nominal, 0.815 ordinal).
- Wikipedia "Krippendorff's alpha" example (3 coders, 15 units), as the `krippendorff`
  package's docstring and sample.py state it: nominal 0.691358, interval 0.810845.
- Fleiss (1971) as worked in Wikipedia "Fleiss' kappa" (10 subjects, 14 raters, 5
  categories): kappa = 0.210.
- Wikipedia "Cohen's kappa", simple example (50 proposals, two readers, yes/no:
  20 both yes, 15 both no, 5 only A yes, 10 only B yes): p_o = 0.7, p_e = 0.5, kappa = 0.4.
"""
from __future__ import annotations

import re

import pytest

from core.agreement import (NO_PAIRS, ONE_VALUE, Agreement, alpha_interval, cohen_kappa,
                            fleiss_kappa, krippendorff_alpha)

N = None

# Krippendorff (2011), section C: rows are observers A-D, columns units 1-12.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Wikipedia's example: rows are coders A-C, columns units 1-15.
WIKIPEDIA_ALPHA = [
    [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
    [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
    [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
]
# Fleiss (1971) via Wikipedia: per subject, how many of the 14 raters chose categories 1-5.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]
# Wikipedia's Cohen example as (reader A, reader B) pairs.
COHEN_PAIRS = ([("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10
               + [("no", "no")] * 15)


def units(observers: list[list]) -> list[list]:
    """Observers × units (as the sources print them) to units × raters (as the API takes)."""
    return [list(unit) for unit in zip(*observers)]


def fleiss_ratings() -> list[list[int]]:
    """The count table back as one row of 14 ratings per subject (raters are anonymous)."""
    return [[cat for cat, n in enumerate(row, start=1) for _ in range(n)] for row in FLEISS_COUNTS]


@pytest.mark.parametrize("level, stated", [("nominal", 0.743), ("ordinal", 0.815),
                                           ("interval", 0.849)])
def test_alpha_matches_krippendorff_2011(level, stated):
    result = krippendorff_alpha(units(KRIPPENDORFF_2011), level)
    assert result.value == pytest.approx(stated, abs=0.0005)
    # The paper's n = 40 pairable values: unit 12 was rated once and drops out.
    assert (result.units, result.pairable, result.reason) == (11, 40, None)


@pytest.mark.parametrize("level, stated", [("nominal", 0.691358), ("interval", 0.810845)])
def test_alpha_matches_the_wikipedia_example(level, stated):
    result = krippendorff_alpha(units(WIKIPEDIA_ALPHA), level)
    assert result.value == pytest.approx(stated, abs=5e-7)
    assert result.units == 12       # 15 less units 1, 2 and 14 (fewer than two values)


def test_nominal_alpha_takes_any_answers():
    """Strings and booleans are categories: coding them changes nothing."""
    as_text = [[None if v is None else f"v{v}" for v in unit] for unit in units(KRIPPENDORFF_2011)]
    assert krippendorff_alpha(as_text, "nominal").value == pytest.approx(0.743, abs=0.0005)
    cohen_bools = [(a == "yes", b == "yes") for a, b in COHEN_PAIRS]
    assert cohen_kappa(cohen_bools).value == pytest.approx(0.4, abs=1e-9)


def test_fleiss_kappa_matches_fleiss_1971():
    result = fleiss_kappa(fleiss_ratings())
    assert result.value == pytest.approx(0.210, abs=0.0005)
    assert (result.units, result.pairable) == (10, 140)


def test_cohen_kappa_matches_the_wikipedia_example():
    result = cohen_kappa(COHEN_PAIRS)
    assert result.value == pytest.approx(0.4, abs=1e-9)       # (0.7 - 0.5) / (1 - 0.5)
    assert (result.units, result.pairable, result.reason) == (50, 100, None)
    # With two categories every miss is one step, so linear weights change nothing.
    numeric = [(int(a == "yes"), int(b == "yes")) for a, b in COHEN_PAIRS]
    assert cohen_kappa(numeric, "linear").value == pytest.approx(0.4, abs=1e-9)
    # Units only one reader rated do not count.
    with_gaps = COHEN_PAIRS + [("yes", None), (None, "no")]
    assert cohen_kappa(with_gaps).units == 50


def test_bootstrap_interval_is_seeded_and_brackets_alpha():
    data = units(KRIPPENDORFF_2011)
    first = alpha_interval(data, "ordinal", resamples=500, seed=7)
    assert first == alpha_interval(data, "ordinal", resamples=500, seed=7)
    assert first != alpha_interval(data, "ordinal", resamples=500, seed=8)
    assert first.low < 0.815 < first.high <= 1.0
    assert (first.used, first.resamples, first.confidence, first.reason) == (500, 500, 0.95, None)


def test_bootstrap_leaves_out_resamples_where_alpha_is_undefined():
    """Nine unanimous items and one split one: a resample missing the split item has one
    answer only. Those resamples are skipped and counted, never divided by zero."""
    data = [["a", "a"]] * 9 + [["a", "b"]]
    result = alpha_interval(data, "nominal", resamples=300, seed=1)
    assert 0 < result.used < 300                    # some skipped, some kept
    assert result.low is not None and result.low <= result.high


def test_no_item_rated_twice_gives_none_with_a_reason():
    data = [[1, None, None], [None, 2, None], [None, None, 3]]
    assert krippendorff_alpha(data, "ordinal") == Agreement(None, 0, 0, NO_PAIRS)
    assert alpha_interval(data, "ordinal").reason == NO_PAIRS
    assert fleiss_kappa(data).reason == NO_PAIRS
    assert cohen_kappa([[1, None], [None, 2]]).reason == NO_PAIRS
    # Positive control: one more rating makes unit 1 pairable and alpha defined.
    data[0][1] = 2
    assert krippendorff_alpha(data, "ordinal").units == 1


def test_a_single_answer_throughout_gives_none_with_a_reason():
    data = [["safe", "safe", "safe"], ["safe", "safe", None]]
    for result in (krippendorff_alpha(data), fleiss_kappa([["safe"] * 3] * 2),
                   cohen_kappa([["safe", "safe"]] * 4)):
        assert result.value is None and result.reason == ONE_VALUE and result.units > 0
    assert alpha_interval(data).reason == ONE_VALUE
    # Positive control: one dissenting rating makes every coefficient defined.
    assert krippendorff_alpha(data + [["safe", "unsafe"]]).value is not None
    assert cohen_kappa([["safe", "safe"]] * 4 + [["safe", "unsafe"]]).value is not None


def test_fleiss_needs_the_same_number_of_ratings_per_item():
    uneven = [[1, 1, 2], [2, 2, None], [1, 1, 1]]
    result = fleiss_kappa(uneven)
    assert result.value is None and "different numbers of ratings (2 to 3)" in result.reason
    assert fleiss_kappa([[1, 1, 2], [2, 2, 2], [1, 1, 1]]).value is not None   # control
    # A unit rated once is not a unit of the analysis, so it does not make the rest uneven.
    assert fleiss_kappa([[1, 1, 2], [2, None, None], [2, 2, 2]]).units == 2


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="ordinal data must be numbers; got 'high'"):
        krippendorff_alpha([["high", "low"]], "ordinal")
    with pytest.raises(ValueError, match="level of measurement must be one of"):
        krippendorff_alpha([[1, 2]], "ratio")
    with pytest.raises(ValueError, match="exactly two raters"):
        cohen_kappa([[1, 2, 3]])


# --- `cli.py agreement` on a real project ----------------------------------------------

SAFE, UNSAFE_S1, UNSAFE_S2 = "safe", "S1", "S2"
# Each annotator's final label per item: safe (severity 0) or unsafe in one category.
LABELS = {
    "ann1": {"i1": (SAFE, 0), "i2": (UNSAFE_S1, 3), "i3": (UNSAFE_S1, 2), "i4": (SAFE, 0),
             "i5": (UNSAFE_S2, 1)},
    "ann2": {"i1": (SAFE, 0), "i2": (UNSAFE_S1, 3), "i3": (SAFE, 0), "i4": (SAFE, 0),
             "i5": (UNSAFE_S2, 2)},
    "ann3": {"i1": (SAFE, 0), "i2": (UNSAFE_S1, 4), "i3": (UNSAFE_S2, 2), "i4": (UNSAFE_S1, 1)},
}


def printed_row(output: str, question: str) -> list[str]:
    line = next(x for x in output.splitlines() if x.startswith(question + "  "))
    return re.split(r"\s{2,}", line.strip())


def test_cli_agreement_prints_what_core_computes_from_the_current_labels(tmp_path, capsys):
    import cli
    from core.labels import Label
    from store import projects, users, work
    from store.bootstrap import open_app_database
    from store.imports import import_file
    from tests.conftest import PASSWORD
    from tests.helpers import label_rows, write_jsonl

    db_path = tmp_path / "agree.duckdb"
    db = open_app_database(db_path, demo=False)
    ids = {name: users.create_user(db, None, name, name, PASSWORD, "annotator")
           for name in LABELS}
    pid = projects.create_project(db, None, "Agree", "label", overlap=3, member_ids=list(ids.values()))
    rows = [dict(r, id=f"i{k}") for k, r in enumerate(label_rows(5), start=1)]
    import_file(db, None, pid, write_jsonl(tmp_path / "items.jsonl", rows))

    def label(answer: str, severity: int) -> Label:
        return Label(True, (), 0) if answer == SAFE else Label(False, (answer,), severity)

    for name, plan in LABELS.items():
        for _ in rows:
            item = work.claim_next_item(db, ids[name], pid)
            if item.external_id not in plan:        # ann3 leaves i5 to the others
                work.skip_item(db, ids[name], item.id)
                continue
            if name == "ann3" and item.external_id == "i4":
                # A first answer later corrected: only the correction may count.
                work.save_annotation(db, ids[name], item.id, Label(True, (), 0))
            work.save_annotation(db, ids[name], item.id, label(*plan[item.external_id]))
    db.close()

    assert cli.main(["--db", str(db_path), "agreement", "--project", "Agree",
                     "--resamples", "200"]) == 0
    out = capsys.readouterr().out

    # The same data typed out by hand, items i1-i5 × ann1-ann3.
    items = [f"i{k}" for k in range(1, 6)]

    def matrix(value) -> list[list]:
        return [[value(*LABELS[n][i]) if i in LABELS[n] else None for n in LABELS] for i in items]

    safe = matrix(lambda a, s: "safe" if a == SAFE else "unsafe")
    severity = matrix(lambda a, s: s)
    s1 = matrix(lambda a, s: a == UNSAFE_S1)
    for question, level, data in (("safe/unsafe", "nominal", safe), ("severity", "ordinal", severity),
                                  ("category S1", "nominal", s1)):
        expected = krippendorff_alpha(data, level)
        interval = alpha_interval(data, level, resamples=200, seed=0)
        row = printed_row(out, question)
        assert row[:5] == [question, level, "5", "3", f"{expected.value:.3f}"], (row, out)
        assert row[5] == f"[{interval.low:.3f}, {interval.high:.3f}]"
        # i5 has two ratings, the rest three: Fleiss does not apply.
        assert row[6] == "-"
    assert expected.value != krippendorff_alpha(matrix(lambda a, s: a == UNSAFE_S2)).value
    # Had ann3's first answer to i4 (safe) counted, safe/unsafe alpha would differ.
    stale = [row[:] for row in safe]
    stale[3][2] = "safe"
    assert printed_row(out, "safe/unsafe")[4] != f"{krippendorff_alpha(stale).value:.3f}"
    # A category nobody chose is undefined, and says why.
    assert printed_row(out, "category S3")[4:] == ["-", "-", "-"]
    # Notes list the questions each reason applies to: "<reason> (<question>, ...)".
    notes = {line[:line.rindex(" (")]: line[line.rindex(" (") + 2:-1].split(", ")
             for line in out.splitlines() if line.startswith("no ")}
    undefined = notes[f"no alpha: {ONE_VALUE}"]
    assert "category S3" in undefined and "category S1" not in undefined   # S1 has an alpha
    uneven = next(names for note, names in notes.items() if note.startswith(
        "no Fleiss kappa: items have different numbers of ratings (2 to 3)"))
    assert uneven[:3] == ["safe/unsafe", "severity", "category S1"]


def test_cli_agreement_uses_cohen_for_two_annotators_on_a_compare_project(tmp_path, capsys):
    import cli
    from store import projects, users, work
    from store.bootstrap import open_app_database
    from store.imports import import_file
    from tests.conftest import PASSWORD

    db_path = tmp_path / "pairs.duckdb"
    db = open_app_database(db_path, demo=False)
    ids = {n: users.create_user(db, None, n, n, PASSWORD, "annotator") for n in ("ann1", "ann2")}
    pid = projects.create_project(db, None, "Pairs", "compare", overlap=2, member_ids=list(ids.values()))
    import_file(db, None, pid, write_pairs(tmp_path))
    plan = {"ann1": [(3, 1, "a"), (-2, -1, "b"), (0, 2, "a"), (1, 0, "tie")],
            "ann2": [(2, 1, "a"), (-2, 0, "b"), (1, 2, "a"), (0, 0, "tie")]}
    for name, judgments in plan.items():
        for harm, help_, overall in judgments:
            item = work.claim_next_item(db, ids[name], pid)
            work.save_annotation(db, ids[name], item.id, judgment={
                "left": "a", "harmlessness": harm, "helpfulness": help_, "overall": overall,
                "rationale": "because"})
    db.close()

    assert cli.main(["--db", str(db_path), "agreement", "--project", "Pairs",
                     "--resamples", "100"]) == 0
    out = capsys.readouterr().out
    harm = [[a[0], b[0]] for a, b in zip(plan["ann1"], plan["ann2"])]
    row = printed_row(out, "harmlessness")
    assert row[:5] == ["harmlessness", "ordinal", "4", "2",
                       f"{krippendorff_alpha(harm, 'ordinal').value:.3f}"]
    assert row[6] == f"{cohen_kappa(harm, 'linear').value:.3f} (Cohen, linear weights)"
    overall = printed_row(out, "overall")
    assert overall[4] == "1.000" and overall[6] == "1.000 (Cohen)"


def write_pairs(tmp_path):
    from tests.helpers import write_jsonl
    return write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": f"p{k}", "prompt": f"question {k}", "response_a": f"answer A {k}",
         "response_b": f"answer B {k}"} for k in range(4)])
