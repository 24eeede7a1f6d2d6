"""Crash benchmark (issue 14): kill -9 the app process while 5 sessions submit (DuckDB), or
one of several app processes on one PostgreSQL database (`--postgresql`).

    .venv/bin/python bench/bench_crash.py [--repetitions 3] [--items 2000] [--overlap 2]
                                          [--sessions 5] [--min-acks 50] [--max-delay 3]
                                          [--checkpoint-threshold 16MB]
                                          [--postgresql [--drivers 3] [--survivor-acks 20]]

The "app process" is a driver process (this file with `--driver`) that opens the database
with `store.db.open_database`, as the app does, and runs one thread per session, each a
`store.work_queue.WorkQueue` submitting a Label (every fifth action a skip) with a client
answer id, in a loop. After each call returns (the transaction committed) it prints
`ACK <kind> <user> <item> <client id> <annotation id>`: that is what a browser would have
been told. The parent collects those lines, waits for `--min-acks` of them plus a random
0..`--max-delay` s, sends SIGKILL, then reopens the file with `open_database` (no repair, no
flags) and checks, in SQL:

- every acknowledged answer is present exactly once (its client answer id once, the
  annotation it names once, for that person and item; a skip once, as a skip event);
- nothing half-written: every annotation and skip has its client answer row, its event and
  its exposure; no (item, person, version) twice; no item answered by more people than its
  overlap; each item's bookkeeping adds up (open slots + done + claims = overlap, done =
  its first answers);
- the database opened without repair (no exception, no migration to apply) and every table
  reads whole; after the restart each session can claim and submit again.

The repetitions run on the same file, one after the other (each restart finds the last
one's work), so the checks are cumulative. `--checkpoint-threshold` lowers DuckDB's
automatic checkpoint size in the driver, so the kill more often lands in or near a
checkpoint (the app runs with DuckDB's default, 16MB).

With `--postgresql` the database is a throwaway PostgreSQL cluster (fsync on, as a server
runs; deploy/local_postgres.py) and there are `--drivers` app processes, the sessions dealt
over them. One of them is killed -9 as above; the others keep submitting (the killed one's
claims lapse and its items go to them in time) until they have acknowledged
`--survivor-acks` more answers, and are then killed -9 too; then the same checks, and the
restart: every session carries on in a new process.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")
os.environ.setdefault("SAFELABEL_HINT_WORKER", "0")

from core.labels import Label  # noqa: E402
from store import projects, users  # noqa: E402
from store.db import open_database  # noqa: E402
from store.imports import import_file  # noqa: E402
from store.postgres import is_postgres_url  # noqa: E402
from store.work_queue import Timing, WorkQueue  # noqa: E402

LABELS = (Label(True, (), 0), Label(False, ("S1",), 1, "crash note"))


# ---------------------------------------------------------------------------- the driver
def run_driver(db_path: str, project_id: int, user_ids: list[int],
               checkpoint_threshold: str | None) -> None:
    """The app process: sessions submitting in a loop until killed."""
    db = open_database(db_path)
    if checkpoint_threshold:
        db._root.execute(f"SET checkpoint_threshold = '{checkpoint_threshold}'")
    out_lock = threading.Lock()

    def say(line: str) -> None:
        with out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def session(user_id: int) -> None:
        queue = WorkQueue(db, user_id, project_id, prefetch=2)
        shown = queue.claim()
        n = 0
        while shown.current is not None:
            item_id, client_id = shown.current.id, str(uuid.uuid4())
            n += 1
            try:
                if n % 5 == 0:
                    shown = queue.skip(item_id, "crash test", client_id=client_id)
                    say(f"ACK skip {user_id} {item_id} {client_id} -")
                else:
                    shown = queue.submit(item_id, LABELS[n % 2], client_id=client_id,
                                         timing=Timing(active_ms=3000))
                    say(f"ACK submit {user_id} {item_id} {client_id} {shown.annotation_id}")
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails
                say(f"ERROR {user_id} {type(exc).__name__}: {exc}")
                shown = queue.claim()
        say(f"DONE {user_id}")

    threads = [threading.Thread(target=session, args=(u,), daemon=True) for u in user_ids]
    for t in threads:
        t.start()
    say("READY")
    for t in threads:
        t.join()
    say("ALL DONE")
    db.close()


# ---------------------------------------------------------------------------- the parent
@dataclass(frozen=True)
class Ack:
    kind: str
    user_id: int
    item_id: int
    client_id: str
    annotation_id: int | None


@dataclass
class Repetition:
    acks: list[Ack] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    killed_after_s: float = 0.0
    finished_before_kill: bool = False


def make_database(db_path: Path | str, items: int, overlap: int, sessions: int
                  ) -> tuple[int, list[int]]:
    """A database (a DuckDB file, or a `postgresql://` URL) with an admin, `sessions`
    annotators and a label project of `items` items."""
    db = open_database(db_path)
    admin = users.create_user(db, None, "admin", "Admin", "crash-password-1", "admin")
    people = [users.create_user(db, admin, f"crash{n}", f"Crash {n}", "crash-password-1",
                                "annotator") for n in range(sessions)]
    pid = projects.create_project(db, admin, "Crash", "label", "", None, overlap, people)
    if is_postgres_url(db_path):
        # File imports do not run on PostgreSQL yet (bench/seed.py says why).
        from bench.seed import add_items
        add_items(db, admin, pid, items, "c")
        db.close()
        return pid, people
    data = db_path.with_name("items.jsonl")
    data.write_text("".join(json.dumps({"id": f"c{n}", "prompt": f"Prompt {n}",
                                        "response": f"Response {n}"}) + "\n"
                            for n in range(items)), encoding="utf-8")
    import_file(db, admin, pid, data)
    db.close()
    return pid, people


def parse_ack(line: str) -> Ack:
    _, kind, user, item, client, annotation = line.split()
    return Ack(kind, int(user), int(item), client, None if annotation == "-" else int(annotation))


class Driver:
    """One driver process (an app process) and the lines it printed."""

    def __init__(self, db_path: Path | str, project_id: int, user_ids: list[int],
                 checkpoint_threshold: str | None, counter: "AckCounter") -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--driver", str(db_path),
                   str(project_id), ",".join(map(str, user_ids))]
        if checkpoint_threshold:
            command += ["--checkpoint-threshold", checkpoint_threshold]
        self.child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, cwd=ROOT)
        self.lines: list[str] = []
        self.counter = counter
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.child.stdout:
            self.lines.append(line.rstrip("\n"))
            self.counter.seen(line)
        self.counter.ended()   # the pipe closed: the driver ended on its own (or crashed)

    def kill(self) -> bool:
        """kill -9 unless it has ended; True when it was still running."""
        running = self.child.poll() is None
        if running:
            os.kill(self.child.pid, signal.SIGKILL)
        return running

    def collect(self, rep: Repetition, killed: bool) -> None:
        self.child.wait(timeout=30)
        self.reader.join(timeout=30)
        stderr = self.child.stderr.read()
        rep.acks += [parse_ack(x) for x in self.lines if x.startswith("ACK")]
        rep.errors += [x for x in self.lines if x.startswith("ERROR")]
        if self.child.returncode != -signal.SIGKILL and killed:
            rep.errors.append(f"driver exit {self.child.returncode}: {stderr[-2000:]}")
        if "READY" not in self.lines:
            rep.errors.append(f"driver never started: {stderr[-2000:]}")


class AckCounter:
    """Acknowledgements from every driver; wakes a waiter at a count (or when one ends)."""

    def __init__(self) -> None:
        self.count, self.target = 0, 0
        self.reached = threading.Event()
        self._lock = threading.Lock()

    def wait_for(self, more: int, timeout: float) -> bool:
        with self._lock:
            self.target = self.count + more
            self.reached.clear()
            if self.count >= self.target:
                self.reached.set()
        return self.reached.wait(timeout)

    def seen(self, line: str) -> None:
        with self._lock:
            self.count += line.startswith("ACK")
            if self.count >= self.target or line.startswith("ALL DONE"):
                self.reached.set()

    def ended(self) -> None:
        self.reached.set()


def run_and_kill(db_path: Path | str, project_id: int, user_ids: list[int], min_acks: int,
                 max_delay: float, rng: random.Random, checkpoint_threshold: str | None = None,
                 timeout: float = 120.0, drivers: int = 1, survivor_acks: int = 20) -> Repetition:
    """Start the driver(s), let them acknowledge `min_acks` answers plus a random wait, kill
    -9 the first; with several drivers let the others acknowledge `survivor_acks` more, then
    kill them -9 too."""
    counter = AckCounter()
    counter.target = min_acks
    groups = [user_ids[n::drivers] for n in range(drivers)]
    running = [Driver(db_path, project_id, group, checkpoint_threshold, counter)
               for group in groups if group]
    rep = Repetition()
    began = time.monotonic()
    if not counter.reached.wait(timeout):
        for driver in running:
            driver.kill()
        raise RuntimeError(f"the drivers acknowledged under {min_acks} answers in {timeout} s")
    time.sleep(rng.uniform(0, max_delay))
    victim, survivors = running[0], running[1:]
    rep.finished_before_kill = not victim.kill()
    rep.killed_after_s = time.monotonic() - began
    victim.collect(rep, killed=not rep.finished_before_kill)
    if survivors:
        # The others carry on past the kill (their sessions unaffected), then die too.
        counter.wait_for(survivor_acks, timeout)
        killed = [driver.kill() for driver in survivors]
        for driver, was_running in zip(survivors, killed):
            driver.collect(rep, killed=was_running)
        if not all(killed):
            rep.errors.append("a surviving driver had ended before it was killed")
    return rep


def check(db_path: Path | str, project_id: int, acks: list[Ack]) -> tuple[dict[str, int], list[str]]:
    """Reopen the file as the app does and check it; returns figures and problems found."""
    problems: list[str] = []
    started = time.perf_counter()
    db = open_database(db_path)           # replays DuckDB's WAL; raises if it cannot
    figures = {"open_ms": int((time.perf_counter() - started) * 1000)}
    from store.schema import migrate
    if migrate(db):
        problems.append("a migration ran again on reopening")
    try:
        with db.read() as cur:
            tables = [r[0] for r in cur.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
                " AND table_type = 'BASE TABLE'").fetchall()]
            for table in tables:   # every row of every table reads back
                cur.execute(f'SELECT * FROM "{table}"').fetchall()
            submits = [a for a in acks if a.kind == "submit"]
            skips = [a for a in acks if a.kind == "skip"]
            cur.execute("CREATE TEMP TABLE acked (kind VARCHAR, user_id INTEGER, item_id BIGINT,"
                        " client_id VARCHAR, annotation_id BIGINT)")
            if acks:
                cur.executemany("INSERT INTO acked VALUES (?, ?, ?, ?, ?)",
                                [(a.kind, a.user_id, a.item_id, a.client_id, a.annotation_id)
                                 for a in acks])

            def count(sql: str) -> int:
                return cur.execute(sql, [project_id] * sql.count("?")).fetchone()[0]

            # Acknowledged, present exactly once.
            missing_submit = count(
                "SELECT count(*) FROM acked k WHERE kind = 'submit' AND ((SELECT count(*) FROM"
                " annotations a WHERE a.id = k.annotation_id AND a.user_id = k.user_id AND"
                " a.item_id = k.item_id) <> 1 OR (SELECT count(*) FROM client_answers c WHERE"
                " c.user_id = k.user_id AND c.client_id = k.client_id AND c.annotation_id ="
                " k.annotation_id AND c.kind = k.kind) <> 1)")
            missing_skip = count(
                "SELECT count(*) FROM acked k WHERE kind = 'skip' AND ((SELECT count(*) FROM"
                " client_answers c WHERE c.user_id = k.user_id AND c.client_id = k.client_id"
                " AND c.item_id = k.item_id AND c.kind = 'skip') <> 1 OR (SELECT count(*) FROM"
                " events e WHERE e.kind = 'skip' AND e.user_id = k.user_id AND e.item_id ="
                " k.item_id) <> 1)")
            # Nothing half-written, nothing doubled.
            annotations = count("SELECT count(*) FROM annotations WHERE project_id = ?")
            twice = count("SELECT count(*) FROM (SELECT item_id, user_id, version FROM"
                          " annotations WHERE project_id = ? GROUP BY ALL HAVING count(*) > 1)")
            over_served = count(
                "SELECT count(*) FROM (SELECT a.item_id FROM annotations a JOIN projects p ON"
                " p.id = a.project_id WHERE a.project_id = ? GROUP BY a.item_id, p.overlap"
                " HAVING count(DISTINCT a.user_id) > p.overlap)")
            without_client_row = count(
                "SELECT count(*) FROM annotations a WHERE project_id = ? AND (SELECT count(*)"
                " FROM client_answers c WHERE c.annotation_id = a.id AND c.kind = 'submit') <> 1")
            client_rows_without_answer = count(
                "SELECT count(*) FROM client_answers c WHERE project_id = ? AND kind = 'submit'"
                " AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.id = c.annotation_id)")
            without_event = count(
                "SELECT count(*) FROM annotations a WHERE project_id = ? AND (SELECT count(*)"
                " FROM events e WHERE e.kind = 'submit' AND e.item_id = a.item_id AND"
                " e.user_id = a.user_id) <> 1")
            exposures_off = count(
                "SELECT abs((SELECT count(*) FROM exposures WHERE project_id = ?) -"
                " (SELECT count(*) FROM annotations WHERE project_id = ?) -"
                " (SELECT count(*) FROM events WHERE project_id = ? AND kind = 'skip'))")
            skips_without_client_row = count(
                "SELECT abs((SELECT count(*) FROM events WHERE project_id = ? AND kind = 'skip')"
                " - (SELECT count(*) FROM client_answers WHERE project_id = ? AND kind = 'skip'))")
            bookkeeping = count(
                "SELECT count(*) FROM items i JOIN projects p ON p.id = i.project_id"
                " LEFT JOIN (SELECT item_id, count(*) FILTER (WHERE version = 1) AS n FROM"
                " annotations GROUP BY item_id) a ON a.item_id = i.id"
                " LEFT JOIN (SELECT item_id, count(*) AS n FROM claims GROUP BY item_id) c"
                " ON c.item_id = i.id WHERE i.project_id = ? AND (i.open_slots < 0 OR"
                " i.done_count <> coalesce(a.n, 0) OR"
                " i.open_slots + i.done_count + coalesce(c.n, 0) <> p.overlap)")
        figures.update(acked_submits=len(submits), acked_skips=len(skips),
                       annotations=annotations)
        for name, value in (("acknowledged submits missing or not exactly once", missing_submit),
                            ("acknowledged skips missing or not exactly once", missing_skip),
                            ("(item, person, version) twice", twice),
                            ("items over-served", over_served),
                            ("annotations without exactly one client answer row",
                             without_client_row),
                            ("client answer rows without their annotation",
                             client_rows_without_answer),
                            ("annotations without exactly one submit event", without_event),
                            ("exposures not one per answer and skip", exposures_off),
                            ("skip events and skip client rows differ",
                             skips_without_client_row),
                            ("items whose bookkeeping does not add up", bookkeeping)):
            figures[name] = value
            if value:
                problems.append(f"{name}: {value}")
    finally:
        db.close()
    return figures, problems


def resume(db_path: Path | str, project_id: int, user_ids: list[int]) -> list[Ack]:
    """After the restart every session claims (getting back what it held) and submits once."""
    db = open_database(db_path)
    acks = []
    try:
        for user_id in user_ids:
            queue = WorkQueue(db, user_id, project_id, prefetch=2)
            shown = queue.claim()
            if shown.current is None:
                continue
            client_id = str(uuid.uuid4())
            done = queue.submit(shown.current.id, LABELS[0], client_id=client_id)
            acks.append(Ack("submit", user_id, shown.current.id, client_id, done.annotation_id))
    finally:
        db.close()
    return acks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", nargs=3, metavar=("DB", "PROJECT", "USERS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--min-acks", type=int, default=50)
    parser.add_argument("--max-delay", type=float, default=3.0)
    parser.add_argument("--checkpoint-threshold", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--postgresql", action="store_true",
                        help="on a throwaway PostgreSQL cluster, with --drivers app processes")
    parser.add_argument("--drivers", type=int, default=3,
                        help="app processes with --postgresql (one of them is killed first)")
    parser.add_argument("--survivor-acks", type=int, default=20)
    args = parser.parse_args()
    if args.driver:
        db_path, project, people = args.driver
        run_driver(db_path, int(project), [int(u) for u in people.split(",")],
                   args.checkpoint_threshold)
        return

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    drivers = args.drivers if args.postgresql else 1
    where = (f"one of {drivers} app processes on PostgreSQL (fsync on)" if args.postgresql
             else "the app process")
    print(f"SafeLabel crash benchmark: kill -9 of {where} while {args.sessions} sessions"
          f" submit; {args.items:,} items, overlap {args.overlap}; seed {seed}"
          + ("" if args.postgresql else f"; checkpoint threshold "
             f"{args.checkpoint_threshold or 'DuckDB default (16MB)'}") + "\n", flush=True)
    rows, all_problems = [], []
    with tempfile.TemporaryDirectory(prefix="safelabel-crash-") as tmp:
        if args.postgresql:
            from deploy import local_postgres
            from tests.pg import free_port
            os.chmod(tmp, 0o755)        # the server may run as the `postgres` account
            target: Path | str = local_postgres.start(Path(tmp) / "postgres", free_port())
        else:
            target = Path(tmp) / "crash.duckdb"
        try:
            pid, people = make_database(target, args.items, args.overlap, args.sessions)
            acks: list[Ack] = []
            for n in range(1, args.repetitions + 1):
                rep = run_and_kill(target, pid, people, args.min_acks, args.max_delay, rng,
                                   args.checkpoint_threshold, drivers=drivers,
                                   survivor_acks=args.survivor_acks)
                acks += rep.acks
                if args.postgresql:
                    wal_kb = "-"
                else:
                    wal = target.with_name(target.name + ".wal")
                    wal_kb = str(wal.stat().st_size // 1024 if wal.exists() else 0)
                figures, problems = check(target, pid, acks)
                acks += resume(target, pid, people)
                figures_after, problems_after = check(target, pid, acks)
                problems = rep.errors + problems + [f"after resuming: {p}" for p in problems_after]
                all_problems += problems
                rows.append((n, len(rep.acks), rep.killed_after_s, wal_kb, figures["open_ms"],
                             figures["annotations"], figures_after["annotations"],
                             "none" if not problems else "; ".join(problems)))
                print(f"repetition {n}: {len(rep.acks)} acknowledged, killed after "
                      f"{rep.killed_after_s:.1f} s" + (" (had finished)"
                                                       if rep.finished_before_kill else ""),
                      flush=True)
        finally:
            if args.postgresql:
                local_postgres.stop(Path(tmp) / "postgres")
    print()
    header = ("rep", "acked this run", "killed at s", "WAL KB at kill", "reopen ms",
              "annotations", "after resume", "problems")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for row in rows:
        print(" | ".join((str(row[0]), str(row[1]), f"{row[2]:.1f}", str(row[3]), str(row[4]),
                          str(row[5]), str(row[6]), row[7])))
    print(f"\nall acknowledged answers ({len(acks)} in all) present exactly once, nothing "
          f"half-written, opened without repair: {'yes' if not all_problems else 'NO'}")
    if all_problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
