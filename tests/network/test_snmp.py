"""The SNMP edge without an agent: what its values show, how a walk moves on and ends."""

from __future__ import annotations

from provisioner.network.poller import PollJob
from provisioner.network.snmp import END_OF_MIB_VIEW, ColumnWalk, Credentials, Target, advance


def test_credentials_never_show_their_secrets() -> None:
    # A PollJob or Target in a log line, a traceback or a failed test's output must not
    # carry the community or the v3 keys in clear text.
    v2c = Credentials("2c", community="s3cret-community")
    v3 = Credentials("3", user="monsha", auth_key="auth-s3cret", priv_key="priv-s3cret")
    job = PollJob(1, "rt", Target("127.0.0.1", 161, v3), 300)
    shown = f"{v2c!r} {job!r} {job.target!s}"
    for secret in ("s3cret-community", "auth-s3cret", "priv-s3cret"):
        assert secret not in shown
    assert "monsha" in shown  # the user name is not a secret and helps


COLUMN = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2)


def walk_of(*answers: list[tuple[tuple[int, ...], object]], max_rows: int = 100) -> ColumnWalk:
    """One column walked through GETBULK answers given as (index, value) lists."""
    walk = ColumnWalk(COLUMN, COLUMN)
    for answer in answers:
        still = advance([walk], [(COLUMN + index, value) for index, value in answer], max_rows)
        if not still:
            break
    return walk


def test_an_agent_in_order_walks_to_the_column_end_with_no_problem() -> None:
    walk = walk_of([((1,), 10), ((2,), 20)], [((3,), 30), ((4,), 40)])
    beyond = walk_of([((1,), 10)], [((9,), END_OF_MIB_VIEW)])
    assert (walk.rows, walk.problem()) == ({(1,): 10, (2,): 20, (3,): 30, (4,): 40}, "")
    assert (beyond.rows, beyond.problem()) == ({(1,): 10}, "")


def test_an_oid_out_of_order_is_walked_past_and_counted() -> None:
    walk = walk_of([((5,), 50), ((2,), 20)], [((7,), 70), ((3,), 30)])
    assert walk.rows == {(5,): 50, (2,): 20, (7,): 70, (3,): 30}
    assert walk.out_of_order == 2
    assert "out of order (2 times" in walk.problem()


def test_an_oid_seen_twice_is_a_loop_and_ends_the_column() -> None:
    walk = walk_of([((5,), 50), ((2,), 20)], [((5,), 50), ((2,), 20)], [((9,), 90)])
    assert walk.rows == {(5,): 50, (2,): 20}
    assert "a loop" in walk.problem()


def test_the_row_cap_ends_a_column_and_says_so() -> None:
    walk = walk_of([((n,), n) for n in range(1, 20)], max_rows=5)
    assert len(walk.rows) == 5
    assert walk.problem() == "stopped at the limit of 5 rows"


def test_leaving_the_column_ends_it_without_a_problem() -> None:
    next_column = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 3, 1)
    walk = ColumnWalk(COLUMN, COLUMN)
    assert advance([walk], [(COLUMN + (1,), 1), (next_column, 3)], 100) == []
    assert (walk.rows, walk.problem()) == ({(1,): 1}, "")
