"""Two people moving the same case at once, on real concurrent connections: one wins."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from firewatch.cases import (
    CaseError,
    CasesSettings,
    ConflictError,
    OpenResult,
    Stage,
    apply_scan,
    load,
    move,
)
from firewatch.cases.records import Actor, Role
from tests.cases.support import ADMIN, T0, scan, seed

S = CasesSettings()
ALICE = Actor("u-alice", Role.INSPECTOR)
BOB = Actor("u-bob", Role.INSPECTOR)


def _verifying_case(url: str, seq: int = 1) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        case_id = (
            apply_scan(conn, scan("V-SHOP", T0, seq, failed=(f"own_item_{seq}",)), T0, S)
            .opened[0]
            .case_id
        )
        for stage in (Stage.REGISTERED, Stage.DISPATCHED, Stage.HANDLING, Stage.VERIFYING):
            move(conn, case_id, stage, ADMIN, now=T0)
    return case_id


def _waiting_on_locks(url: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE hazard_case%%'"
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} movers never reached the case row")


def _race(url: str, moves: list[Callable[[psycopg.Connection], object]]) -> list[object]:
    """Run the moves on their own connections, each reading the case before any writes."""
    outcomes: list[object] = [None] * len(moves)
    with psycopg.connect(url) as holder:
        # Hold the case row: both movers read it, decide, and queue on their UPDATE.
        holder.execute("SELECT 1 FROM hazard_case FOR UPDATE")

        def run(i: int) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                try:
                    outcomes[i] = moves[i](conn)
                except CaseError as exc:
                    outcomes[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(moves))]
        for t in threads:
            t.start()
        _waiting_on_locks(url, len(moves))
        holder.commit()  # let them go: one commits first, the other finds the version moved
        for t in threads:
            t.join(20)
    return outcomes


def test_close_and_return_at_once_exactly_one_wins(fresh_db: str) -> None:
    seed(fresh_db)
    case_id = _verifying_case(fresh_db)
    outcomes = _race(
        fresh_db,
        [
            lambda c: move(c, case_id, Stage.CLOSED, ALICE, now=T0, note="合格"),
            lambda c: move(c, case_id, Stage.HANDLING, BOB, now=T0, note="不合格"),
        ],
    )
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(conflicts) == 1 and len(winners) == 1
    assert "was changed by someone else" in str(conflicts[0])
    assert f"case {case_id}" in str(conflicts[0])
    with psycopg.connect(fresh_db) as conn:
        case = load(conn, case_id)
    # The store holds the winner's move and only that: one history entry after verifying.
    assert case.history[-1].to_stage is case.stage
    assert [e.from_stage for e in case.history].count(Stage.VERIFYING) == 1
    assert case.version == len(case.history)


def test_the_same_move_twice_at_once_is_made_once(fresh_db: str) -> None:
    seed(fresh_db)
    case_id = _verifying_case(fresh_db)
    outcomes = _race(
        fresh_db,
        [
            lambda c: move(c, case_id, Stage.CLOSED, ALICE, now=T0),
            lambda c: move(c, case_id, Stage.CLOSED, BOB, now=T0),
        ],
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Case", "ConflictError"]
    with psycopg.connect(fresh_db) as conn:
        case = load(conn, case_id)
    assert [e.to_stage for e in case.history].count(Stage.CLOSED) == 1


@pytest.mark.parametrize("rounds", [8])
def test_people_racing_with_the_version_they_saw(fresh_db: str, rounds: int) -> None:
    """Unsynchronised threads, each with the version on its screen: one wins per round."""
    seed(fresh_db)
    for n in range(rounds):
        case_id = _verifying_case(fresh_db, seq=n + 1)
        with psycopg.connect(fresh_db) as conn:
            seen = load(conn, case_id).version
        barrier = threading.Barrier(2)

        def attempt(
            actor: Actor,
            target: Stage,
            case_id: str = case_id,
            seen: int = seen,
            barrier: threading.Barrier = barrier,
        ) -> str:
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                barrier.wait()
                try:
                    move(conn, case_id, target, actor, now=T0, expected_version=seen)
                except ConflictError:
                    return "conflict"
                return "won"

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(attempt, [ALICE, BOB], [Stage.CLOSED, Stage.HANDLING]))
        assert sorted(results) == ["conflict", "won"], f"round {n}: {results}"
        with psycopg.connect(fresh_db) as conn:
            case = load(conn, case_id)
        # The case was closed, or returned, once: not both.
        assert case.version == seen + 1


def test_the_same_hazard_found_twice_at_once_opens_one_case(fresh_db: str) -> None:
    seed(fresh_db)
    barrier = threading.Barrier(2)

    def found(seq: int) -> OpenResult:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            barrier.wait()
            applied = apply_scan(
                conn,
                scan("V-HOME", T0, seq, failed=("evacuation_clear",), inspector=f"INSP-{seq}"),
                T0,
                S,
            )
            return applied.opened[0].result

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(found, [1, 2]))
    assert sorted(results) == [OpenResult.FOUND_AGAIN, OpenResult.OPENED]
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("SELECT found_count FROM hazard_case").fetchall()
    assert rows == [(2,)]
