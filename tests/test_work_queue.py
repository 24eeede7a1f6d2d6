"""The work queue object (store/work_queue.py) without Streamlit: claim with prefetch,
submit, skip, flag, undo, and wellbeing, gold and qualification routing with prefetch."""
import threading
from datetime import timedelta

import pytest

from core.labels import Label
from core.queue import UNDO_WINDOW_SECONDS, gold_due
from store import gold, projects, users, wellbeing, work
from store.db import PermissionDenied, StoreError, utcnow
from store.imports import import_file
from store.work_queue import Timing, WorkQueue, undo_skip, undo_submit
from tests.conftest import PASSWORD, make_project, table_counts
from tests.helpers import label_rows, write_jsonl

UNSAFE = Label(False, ("S1",), 3, "threat")
SAFE = Label(True, (), 0)


def rows(prefix, severities):
    return [{"id": f"{prefix}-{n}", "prompt": f"prompt {n}", "response": f"response {n}",
             "hint_severity": s} for n, s in enumerate(severities)]


@pytest.fixture
def project(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "items.jsonl", label_rows(10)))
    return pid


def claims_of(db, user_id):
    with db.read() as cur:
        return [r[0] for r in cur.execute("SELECT item_id FROM claims WHERE user_id = ?"
                                          " ORDER BY claimed_at, item_id", [user_id]).fetchall()]


def item_row(db, item_id):
    with db.read() as cur:
        return cur.execute("SELECT open_slots, done_count, touched_by FROM items WHERE id = ?",
                           [item_id]).fetchone()


def take(db, user_id, project_id, item_id):
    """Have this person work through the queue until they hold `item_id`."""
    for _ in range(20):
        item = work.claim_next_item(db, user_id, project_id)
        assert item is not None, "never got the item"
        if item.id == item_id:
            return
        work.save_annotation(db, user_id, item.id, UNSAFE)
    raise AssertionError("never got the item")


def test_claim_with_prefetch_two_gives_two_distinct_claimed_items(db, accounts, project):
    ann = accounts["ann1"]
    shown = WorkQueue(db, ann, project, prefetch=2).claim()
    assert len(shown.items) == 2 and shown.current.id != shown.prefetched[0].id
    assert claims_of(db, ann) == [i.id for i in shown.items]
    for item in shown.items:
        slots, _, touched = item_row(db, item.id)
        assert slots == 0 and f",{ann}," in touched
    # A reload gets the same two, in the same order, and claims nothing more.
    before = table_counts(db)
    again = WorkQueue(db, ann, project, prefetch=2).claim()
    assert [i.id for i in again.items] == [i.id for i in shown.items]
    assert table_counts(db)["claims"] == before["claims"] == 2
    # Someone else gets neither.
    other = WorkQueue(db, accounts["ann2"], project).claim()
    assert not {i.id for i in other.items} & {i.id for i in shown.items}
    # The single-item queue sees the same current item.
    assert work.claim_next_item(db, ann, project).id == shown.current.id


def test_every_call_renews_the_expiry_of_the_claims_it_returns(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    start = utcnow()
    queue.claim(now=start)
    later = start + timedelta(minutes=20)
    queue.claim(now=later)
    with db.read() as cur:
        expiries = {r[0] for r in cur.execute("SELECT expires_at FROM claims WHERE user_id = ?",
                                              [ann]).fetchall()}
    assert expiries == {later + timedelta(minutes=30)}


def test_submit_acknowledges_by_id_and_returns_the_following_item(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    done = queue.submit(shown.current.id, UNSAFE, timing=Timing(active_ms=4_000))
    assert done.item_id == shown.current.id
    saved = work.latest_annotation(db, shown.current.id, ann)
    assert saved.id == done.annotation_id and saved.version == 1 and saved.severity == 3
    assert done.current.id == shown.prefetched[0].id      # the prefetched one comes next
    assert len(done.items) == 2 and done.items[1].id not in (shown.current.id, done.current.id)
    assert claims_of(db, ann) == [i.id for i in done.items]
    assert item_row(db, shown.current.id)[:2] == (0, 1)
    assert done.status.minutes_by_severity == {3: pytest.approx(4 / 60)}


def test_a_bad_answer_saves_and_claims_nothing(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    before = table_counts(db)
    with pytest.raises(StoreError):
        queue.submit(shown.current.id, Label(False, (), 1, "x" * 6_000))
    assert table_counts(db) == before
    # Positive control: the same item saves with a short note.
    assert queue.submit(shown.current.id, UNSAFE).annotation_id


def test_an_item_of_another_project_is_refused(db, accounts, project, tmp_path):
    ann = accounts["ann1"]
    other = make_project(db, accounts, name="Other")
    import_file(db, accounts["lead"], other, write_jsonl(tmp_path / "o.jsonl", label_rows(2, "o")))
    elsewhere = WorkQueue(db, ann, other).claim().current
    before = table_counts(db)
    with pytest.raises(StoreError, match="another project"):
        WorkQueue(db, ann, project).submit(elsewhere.id, UNSAFE)
    assert table_counts(db) == before


def test_skip_and_flag_move_on_and_give_the_slot_back(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    skipped = queue.skip(shown.current.id, "not today", Timing(active_ms=2_000))
    assert (skipped.kind, skipped.item_id) == ("skip", shown.current.id)
    assert skipped.current.id == shown.prefetched[0].id and len(skipped.items) == 2
    assert item_row(db, shown.current.id)[0] == 1                 # back in the pool
    before = table_counts(db)
    with pytest.raises(StoreError, match="why you flag"):
        queue.flag(skipped.current.id, "  ")
    assert table_counts(db) == before
    flagged = queue.flag(skipped.current.id, "unclear prompt")
    assert flagged.kind == "flag" and flagged.current.id == skipped.items[1].id
    with db.read() as cur:
        assert cur.execute("SELECT reason FROM flags").fetchall() == [("unclear prompt",)]
    # Never to the skipper again; to someone else, yes.
    assert shown.current.id not in [i.id for i in flagged.items]
    take(db, accounts["ann2"], project, shown.current.id)


def test_a_lapsed_prefetched_claim_is_taken_over_like_any_other(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Two")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "t.jsonl", label_rows(2)))
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    start = utcnow()
    held = WorkQueue(db, ann1, pid).claim(now=start)
    assert len(held.items) == 2
    assert WorkQueue(db, ann2, pid).claim(now=start).items == []      # both are held
    later = start + timedelta(hours=2)
    taken = WorkQueue(db, ann2, pid).claim(now=later)
    assert [i.id for i in taken.items] == [i.id for i in held.items]   # both had lapsed
    assert WorkQueue(db, ann1, pid).claim(now=later).items == []
    # ann1's late answer to the item they held first is still kept.
    work.save_annotation(db, ann1, held.current.id, UNSAFE)
    assert work.latest_annotation(db, held.current.id, ann1).version == 1


def test_release_prefetched_keeps_the_item_on_screen(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    assert queue.release_prefetched() == 1
    assert claims_of(db, ann) == [shown.current.id]
    slots, _, touched = item_row(db, shown.prefetched[0].id)
    assert slots == 1 and f",{ann}," not in touched
    assert queue.release_prefetched() == 0
    # A smaller prefetch gives back the furthest claims too.
    WorkQueue(db, ann, project, prefetch=3).claim()
    assert len(claims_of(db, ann)) == 3
    assert len(WorkQueue(db, ann, project, prefetch=2).claim().items) == 2
    assert len(claims_of(db, ann)) == 2


# -- undo --------------------------------------------------------------------------------------

def test_undo_of_a_submit_reopens_it_for_correction_as_version_two(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    done = queue.submit(shown.current.id, UNSAFE)
    before = table_counts(db)
    undone = queue.undo_last()
    assert (undone.kind, undone.item.id) == ("submit", shown.current.id)
    assert undone.annotation.id == done.annotation_id                  # to pre-fill
    assert (undone.annotation.is_safe, undone.annotation.categories) == (False, ["S1"])
    assert [i.id for i in undone.items] == [i.id for i in done.items]  # the queue is unchanged
    after = table_counts(db)
    assert after["annotations"] == before["annotations"]               # nothing deleted
    assert after["events"] == before["events"] + 1
    with db.read() as cur:
        assert cur.execute("SELECT details FROM events WHERE kind = 'undo'").fetchone()[0] \
            == f'{{"undone": "submit", "annotation_id": {done.annotation_id}}}'
    corrected = queue.correct(shown.current.id, SAFE)
    history = work.annotation_history(db, shown.current.id, ann)
    assert [(a.version, a.supersedes, a.is_safe) for a in history] == [
        (1, None, False), (2, done.annotation_id, True)]
    assert history[-1].id == corrected.annotation_id
    assert item_row(db, shown.current.id)[1] == 1                       # still one done
    # The undo was the last action: nothing more to undo.
    with pytest.raises(StoreError):
        undo_submit(db, ann, done.annotation_id)


def test_undo_of_a_skip_gives_the_item_back_first(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    skipped = queue.skip(shown.current.id)
    undone = queue.undo_last()
    assert undone.kind == "skip" and undone.item.id == shown.current.id
    assert [i.id for i in undone.items] == [shown.current.id, skipped.current.id]
    assert claims_of(db, ann) == [shown.current.id, skipped.current.id]   # still two held
    assert item_row(db, shown.current.id)[0] == 0
    released = skipped.items[1].id
    assert item_row(db, released)[0] == 1                               # the furthest went back
    assert queue.claim().current.id == shown.current.id                 # a reload agrees
    before = table_counts(db)
    with pytest.raises(StoreError, match="nothing to undo"):
        queue.undo_last()
    assert table_counts(db) == before
    done = queue.submit(shown.current.id, UNSAFE)
    assert work.latest_annotation(db, shown.current.id, ann).version == 1
    assert done.current.id == skipped.current.id


def test_undo_of_a_skip_is_refused_when_someone_else_took_the_item(db, accounts, project):
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    queue = WorkQueue(db, ann1, project)
    shown = queue.claim()
    queue.skip(shown.current.id)
    take(db, ann2, project, shown.current.id)
    before = table_counts(db)
    with pytest.raises(StoreError, match="Someone else"):
        queue.undo_last()
    assert table_counts(db) == before
    # Once they skip it too, the slot is free and it can come back.
    work.skip_item(db, ann2, shown.current.id)
    assert queue.undo_last().item.id == shown.current.id


def test_undo_after_the_window_is_refused(db, accounts, project):
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, project)
    shown = queue.claim()
    done = queue.submit(shown.current.id, UNSAFE)
    late = utcnow() + timedelta(seconds=UNDO_WINDOW_SECONDS + 5)
    before = table_counts(db)
    with pytest.raises(StoreError, match="Too late"):
        undo_submit(db, ann, done.annotation_id, now=late)
    skipped = queue.skip(done.current.id)
    before = table_counts(db)
    with pytest.raises(StoreError, match="Too late"):
        queue.undo_last(now=late)
    with pytest.raises(StoreError, match="Too late"):
        undo_skip(db, ann, skipped.item_id, within_seconds=0.0, now=utcnow() + timedelta(seconds=1))
    assert table_counts(db) == before
    # Positive control: inside the window it works.
    assert queue.undo_last().item.id == done.current.id


def test_undo_of_someone_elses_action_or_an_earlier_one_is_refused(db, accounts, project):
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    mine = WorkQueue(db, ann1, project)
    shown = mine.claim()
    first = mine.submit(shown.current.id, UNSAFE)
    before = table_counts(db)
    with pytest.raises(PermissionDenied):
        undo_submit(db, ann2, first.annotation_id)
    assert table_counts(db) == before
    skipped = mine.skip(first.current.id)
    before = table_counts(db)
    with pytest.raises(StoreError, match="nothing to undo"):
        undo_skip(db, ann2, skipped.item_id)          # ann2 did nothing yet
    theirs = WorkQueue(db, ann2, project)
    # Which items ann2 is served depends on the store's scan order (the item ann1 gave back
    # may be among them): ann2 skips one that is not ann1's.
    other = next(i for i in theirs.claim().items if i.id != skipped.item_id)
    theirs.skip(other.id)
    before = table_counts(db)
    with pytest.raises(StoreError, match="last action"):
        undo_skip(db, ann2, skipped.item_id)          # ann2 skipped another item
    with pytest.raises(StoreError, match="last action"):
        undo_submit(db, ann1, first.annotation_id)    # not ann1's last action any more
    assert table_counts(db) == before
    assert undo_skip(db, ann1, skipped.item_id).item.id == skipped.item_id


# -- routing with prefetch ------------------------------------------------------------------

def add_exposure(db, user_id, project_id, severity, minutes):
    ended = utcnow() - timedelta(seconds=1)
    db.write(lambda cur: wellbeing.record_exposure(
        cur, user_id, project_id, 999_999, severity, None, "submit", int(minutes * 60_000),
        ended - timedelta(minutes=minutes), ended))


def test_an_answer_that_reaches_the_cap_swaps_the_prefetched_severe_item(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, name="Severe")
    import_file(db, accounts["lead"], pid,
                write_jsonl(tmp_path / "s.jsonl", rows("s", [4] * 6 + [1] * 4)))
    add_exposure(db, ann, pid, 4, 89)                 # one minute short of the cap
    queue = WorkQueue(db, ann, pid)
    shown = queue.claim()
    assert [i.hint_severity for i in shown.items] == [4, 4]
    done = queue.submit(shown.current.id, Label(False, ("S1",), 4),
                        timing=Timing(active_ms=120_000))
    assert done.status.caps_reached == [4]
    assert [i.hint_severity for i in done.items] == [1, 1]
    prefetched = shown.prefetched[0].id
    assert prefetched not in claims_of(db, ann)
    slots, _, touched = item_row(db, prefetched)
    assert slots == 1 and f",{ann}," not in touched    # back in the pool
    with db.read() as cur:
        assert cur.execute("SELECT details FROM events WHERE kind = 'claim_released'"
                           " AND item_id = ?", [prefetched]).fetchone()[0] == '{"why": "given back unseen"}'


def test_after_a_severe_run_a_light_item_comes_before_the_prefetched_one(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, name="Run")
    import_file(db, accounts["lead"], pid,
                write_jsonl(tmp_path / "r.jsonl", rows("r", [3] * 12 + [0])))
    queue = WorkQueue(db, ann, pid)
    result = queue.claim()
    served = []
    for _ in range(8):
        served.append(result.current.hint_severity)
        prefetched = result.prefetched[0].id
        result = queue.submit(result.current.id, Label(True), timing=Timing(active_ms=5_000))
    assert served == [3] * 8
    assert result.status.benign_next
    # The ninth item is the light one; the severe item prefetched before stays next.
    assert result.current.hint_severity == 0
    assert [i.id for i in result.items][1] == prefetched
    assert claims_of(db, ann) == [i.id for i in result.items]
    # A reload keeps that order.
    assert [i.id for i in queue.claim().items] == [i.id for i in result.items]
    after = queue.submit(result.current.id, Label(True, (), 0), timing=Timing(active_ms=5_000))
    assert not after.status.benign_next and after.current.id == prefetched


def test_gold_items_keep_their_places_with_prefetch(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, name="Gold")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "g.jsonl", label_rows(30)))
    with db.read() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM items WHERE project_id = ? ORDER BY id",
                                         [pid]).fetchall()]
    golds = set(ids[:5])
    for item_id in golds:
        gold.set_gold(db, accounts["lead"], item_id, UNSAFE, None, "")
    projects.update_project_settings(db, accounts["lead"], pid, {"gold_rate": 0.25})
    queue = WorkQueue(db, ann, pid)
    result = queue.claim()
    served = []
    for _ in range(16):
        served.append(result.current.id)
        if len(served) % 5 == 0:
            result = queue.skip(result.current.id)    # a skip counts like an answer
        else:
            result = queue.submit(result.current.id, UNSAFE)
    expected = [gold_due(n, 0.25, ann, pid) for n in range(16)]
    assert [item_id in golds for item_id in served] == expected
    assert sum(expected) == 4


def test_prefetch_waits_for_the_qualification_to_be_scored(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, name="Qualified")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "q.jsonl", label_rows(6)))
    with db.read() as cur:
        q1, q2, *real = [r[0] for r in cur.execute(
            "SELECT id FROM items WHERE project_id = ? ORDER BY id", [pid]).fetchall()]
    gold.set_gold(db, accounts["lead"], q1, UNSAFE, None, "", qualification=True)
    gold.set_gold(db, accounts["lead"], q2, SAFE, None, "", qualification=True)
    projects.update_project_settings(db, accounts["lead"], pid, {
        "qualification_required": True, "qualification_threshold": 0.5, "gold_rate": 0})
    queue = WorkQueue(db, ann, pid)
    assert [i.id for i in queue.claim().items] == [q1, q2]
    first = queue.submit(q1, UNSAFE)
    assert [i.id for i in first.items] == [q2]         # nothing real before the score
    assert claims_of(db, ann) == [q2]
    second = queue.submit(q2, SAFE)
    assert len(second.items) == 2 and all(i.id in real for i in second.items)


def test_eight_threads_with_prefetch_two_never_share_a_claim(db, accounts, tmp_path):
    names = [f"worker{n}" for n in range(8)]
    for name in names:
        accounts[name] = users.create_user(db, accounts["admin"], name, name, PASSWORD, "annotator")
    pid = make_project(db, accounts, members=tuple(names), name="Race")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "race.jsonl", label_rows(100)))
    given: dict[str, set[int]] = {name: set() for name in names}
    errors: list[Exception] = []
    doubled: list[tuple] = []

    def worker(name: str) -> None:
        try:
            queue = WorkQueue(db, accounts[name], pid, prefetch=2)
            result = queue.claim()
            while result.items:
                given[name].update(i.id for i in result.items)
                with db.read() as cur:
                    doubled.extend(cur.execute("SELECT item_id FROM claims GROUP BY item_id"
                                               " HAVING count(*) > 1").fetchall())
                if len(given[name]) % 7 == 3:
                    result = queue.skip(result.current.id)
                else:
                    result = queue.submit(result.current.id, UNSAFE)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not doubled
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
        annotated = cur.execute("SELECT item_id, count(*) FROM annotations GROUP BY item_id").fetchall()
    assert all(n == 1 for _, n in annotated)                            # each item once
    # A skipped item goes to someone else; nobody else was given an item while it was held.
    with db.read() as cur:
        skips = {(r[0], r[1]) for r in cur.execute("SELECT user_id, item_id FROM events"
                                                   " WHERE kind = 'skip'").fetchall()}
    # Every item was answered, or skipped by someone late, after the others had finished.
    assert {i for i, _ in annotated} | {i for _, i in skips} == set().union(*given.values())
    assert len(set().union(*given.values())) == 100 and len(annotated) >= 90
    by_id = {accounts[n]: n for n in names}
    skipped_by = {}
    for user_id, item_id in skips:
        skipped_by.setdefault(item_id, set()).add(by_id[user_id])
    for a in names:
        for b in names:
            if a < b:
                shared = given[a] & given[b]
                assert all(skipped_by.get(i, set()) & {a, b} for i in shared), shared


# -- what the work pages' queue accepts for items the person does not hold ---------------------

SAFE = Label(True, (), 0)


def test_the_queue_refuses_answers_skips_and_flags_for_items_not_given_to_the_person(
        db, accounts, tmp_path):
    """A crafted message (or a stale second tab) names an item: the queue accepts it only
    as the person's own lapsed claim."""
    pid = make_project(db, accounts, name="Trust")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "t.jsonl", label_rows(6)))
    ann1, ann2 = WorkQueue(db, accounts["ann1"], pid, prefetch=1), WorkQueue(
        db, accounts["ann2"], pid, prefetch=1)
    mine = ann1.claim().current
    theirs = ann2.claim().current
    with db.read() as cur:
        never = cur.execute("SELECT id FROM items WHERE project_id = ? AND id NOT IN (?, ?)"
                            " ORDER BY id LIMIT 1", [pid, mine.id, theirs.id]).fetchone()[0]
    before = table_counts(db)
    for item_id in (theirs.id, never):
        with pytest.raises(StoreError, match="not given to you"):
            ann1.submit(item_id, SAFE, client_id=f"forged-{item_id}")
        with pytest.raises(StoreError, match="not given to you"):
            ann1.skip(item_id)
        with pytest.raises(StoreError, match="not given to you"):
            ann1.flag(item_id, "crafted")
    assert table_counts(db) == before
    # Positive control: the item the person holds is saved.
    ann1.submit(mine.id, SAFE, client_id="real")
    # Answered once: a second first answer (another tab) and a skip of it are refused.
    before = table_counts(db)
    with pytest.raises(StoreError, match="already answered"):
        ann1.submit(mine.id, Label(False, ("S1",), 2), client_id="second-tab")
    with pytest.raises(StoreError, match="already answered"):
        ann1.skip(mine.id)
    assert table_counts(db) == before


def test_a_skipped_item_cannot_be_answered_later_but_a_lapsed_claim_can(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Lapsed")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "l.jsonl", label_rows(2)))
    start = utcnow()
    queue = WorkQueue(db, accounts["ann1"], pid, prefetch=1)
    skipped = queue.claim(now=start).current
    held = queue.skip(skipped.id, now=start).current
    with pytest.raises(StoreError, match="skipped or flagged"):
        queue.submit(skipped.id, SAFE)
    # ann1's hold on `held` lapses and ann2, with nothing fresh left, takes it over; ann1's
    # late answer is still kept (work is never dropped; the item is reported over-served).
    later = start + timedelta(hours=2)
    other = WorkQueue(db, accounts["ann2"], pid, prefetch=1)
    fresh = other.claim(now=later).current
    assert fresh.id == skipped.id
    assert other.submit(fresh.id, SAFE, now=later).current.id == held.id
    queue.submit(held.id, SAFE, now=later)
    assert work.latest_annotation(db, held.id, accounts["ann1"]) is not None
