"""Claims of runs that share the accounts shrink towards the end, so the runs end together."""
import heapq

from portal.jobs.nightly_share import MIN_BATCH, Candidates, tail_batch


def test_a_claim_is_the_whole_batch_while_plenty_is_left():
    assert tail_batch(5_000, 1_000) == 1_000
    assert tail_batch(4_000, 1_000) == 1_000


def test_near_the_end_a_claim_takes_a_quarter_of_what_is_left():
    assert tail_batch(3_000, 1_000) == 750
    assert tail_batch(1_001, 1_000) == 251


def test_a_claim_never_falls_below_the_smallest_batch_nor_exceeds_the_batch_size():
    assert tail_batch(20, 1_000) == MIN_BATCH
    assert tail_batch(0, 1_000) == MIN_BATCH
    assert tail_batch(20, 10) == 10  # a batch size below the floor is kept as it is


def test_what_is_left_is_read_from_the_ids_still_ahead():
    to_do = Candidates(count=5_000, first_id=1, last_id=5_000)
    assert to_do.left_after(0) == 5_000
    assert to_do.left_after(4_000) == 1_000
    assert to_do.left_after(5_000) == 0
    sparse = Candidates(count=100, first_id=1_001, last_id=2_000)  # one account in ten
    assert sparse.left_after(1_500) == 50
    assert Candidates(count=0, first_id=None, last_id=None).left_after(0) == 0


def _finishing_times(accounts: int, batch_size: int, runs: int, shrink: bool) -> list[int]:
    """Runs of equal speed taking claims in id order, each as soon as its last batch is done
    (time in accounts processed): when each run ends. A run sizes its claim from its own last
    id, as `run_nightly` does: the other runs' batches in flight beyond it count as left."""
    to_do = Candidates(accounts, 1, accounts)
    claimed, ready = 0, [(0, run) for run in range(runs)]
    ends, own_last = [0] * runs, [0] * runs
    while claimed < accounts:
        now, run = heapq.heappop(ready)
        size = to_do.batch_after(own_last[run], batch_size) if shrink else batch_size
        size = min(size, accounts - claimed)
        claimed += size
        own_last[run] = claimed
        ends[run] = now + size
        heapq.heappush(ready, (now + size, run))
    return ends


def test_two_runs_sharing_5000_accounts_in_batches_of_1000_end_within_a_small_batch():
    """Issue 15: with fixed batches one run did three of five, the other idled for the last
    (two runs at most 5/3 = 1.67x one); shrinking claims end them within MIN_BATCH."""
    fixed = _finishing_times(5_000, 1_000, 2, shrink=False)
    shrinking = _finishing_times(5_000, 1_000, 2, shrink=True)
    assert sorted(fixed) == [2_000, 3_000]
    assert max(shrinking) - min(shrinking) <= MIN_BATCH
    assert max(shrinking) <= 2_500 + MIN_BATCH
