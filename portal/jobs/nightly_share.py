"""How many accounts a nightly batch claims when several runs share the accounts.

Runs started together (`flask jobs nightly` twice, on PostgreSQL) take batches in id order
with FOR UPDATE SKIP LOCKED. With batches of a fixed size, the last one leaves the other runs
idle: 5,000 accounts in batches of 1,000 are three batches for one process and two for the
other, so two processes can be at most 5/3 = 1.67x one. As in guided self-scheduling, each
claim takes at most a share of what is left (`TAIL_SHARE`: a quarter, half of a fair share for
two runs), never more than the batch size and never fewer than `MIN_BATCH` accounts (a batch
costs a fixed number of statements): the runs finish within a small batch of each other.
Plain arithmetic, no database.
"""
from __future__ import annotations

from dataclasses import dataclass

TAIL_SHARE = 4  # a claim takes at most 1/TAIL_SHARE of the accounts left
MIN_BATCH = 50  # below this, the batch's fixed statements cost more than the wait they save


@dataclass(frozen=True)
class Candidates:
    """The accounts to do when the run started: how many, and their first and last id."""
    count: int
    first_id: int | None
    last_id: int | None

    def left_after(self, after: int) -> int:
        """About how many are left with an id above `after` (claimed by no run yet, or in
        another run's batch in flight), assuming them spread evenly over the ids."""
        if not self.count or self.first_id is None or after >= self.last_id:
            return 0
        if after < self.first_id:
            return self.count
        span = self.last_id - self.first_id + 1
        return -(-self.count * (self.last_id - after) // span)  # rounded up

    def batch_after(self, after: int, batch_size: int) -> int:
        """The size of the next claim after id `after`: `batch_size` while plenty is left,
        then a `TAIL_SHARE`-th of what is left, at least `MIN_BATCH` (or `batch_size`, if
        smaller)."""
        return tail_batch(self.left_after(after), batch_size)


def tail_batch(left: int, batch_size: int) -> int:
    """`batch_size`, or a `TAIL_SHARE`-th of `left` when that is smaller (rounded up), but
    at least `MIN_BATCH` (or `batch_size`, if smaller)."""
    share = -(-left // TAIL_SHARE)
    return max(min(batch_size, MIN_BATCH), min(batch_size, share))
