"""Assigning accounts to arms, set-based: one INSERT ... SELECT per experiment for the
accounts of its population (open, of its profile, with something overdue) that have no arm
yet, ON CONFLICT DO NOTHING on (experiment, account).

- Used when an experiment is created (its first cohort) and by the assignment job
  (`assign_new`, scheduled hourly and `flask jobs experiments`), which adds accounts that
  became overdue since, for every experiment that has not ended or been stopped.
- The arm is the one `rules.arm_for` draws (HMAC-SHA256 of the account id under the
  experiment's stored salt), computed in the database: with PostgreSQL's own `sha256` (no
  extension needed), on SQLite with `arm_for` registered as a function. So an account gets
  the same arm whenever it is assigned, and a test can draw it again.
- Idempotent and safe to run twice at once: an assigned account is never selected again
  (NOT EXISTS), and a concurrent run's rows win the unique key (the later INSERT waits for
  the earlier transaction, then does nothing). Nothing ever moves an assigned account.
"""
from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import BigInteger, Text, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import BIT, insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.accounts.models import Account, AccountStatus
from portal.audit.services import record
from portal.experiments.models import Experiment, ExperimentAssignment as EA
from portal.experiments.rules import ARMS, arm_for
from portal.extensions import db

_BLOCK = 64  # SHA-256's block size: HMAC's key length
_SQLITE_ARM = "portal_experiment_arm"


def _pads(salt: str) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys for `salt` (RFC 2104)."""
    key = salt.encode()
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _postgres_arm(experiment: Experiment):
    """`arm_for(salt, account.id, percent)` in SQL: the first 8 bytes of the HMAC as a signed
    bigint `s`; the unsigned draw u (s, or s + 2**64 when negative) falls in the challenger
    when u * 100 < percent * 2**64, i.e. u < bound; compared in bigint on each side of 2**63."""
    ipad, opad = _pads(experiment.salt)
    message = func.convert_to(cast(Account.id, Text), "UTF8")
    digest = func.sha256(literal(opad).op("||")(func.sha256(literal(ipad).op("||")(message))))
    signed = cast(cast(literal("x").op("||")(func.encode(func.substr(digest, 1, 8), "hex")),
                       BIT(64)), BigInteger)
    bound = (experiment.challenger_percent * 2 ** 64 - 1) // 100 + 1
    if bound >= 2 ** 63:
        challenger = or_(signed >= 0, signed < bound - 2 ** 64)
    else:
        challenger = and_(signed >= 0, signed < bound)
    return case((challenger, "b"), else_="a")


def _arm(experiment: Experiment):
    if db.session.get_bind().dialect.name == "postgresql":
        return _postgres_arm(experiment), pg_insert
    # SQLite has no SHA-256: the same function, registered on this connection.
    raw = db.session.connection().connection.driver_connection
    raw.create_function(_SQLITE_ARM, 3, arm_for, deterministic=True)
    return getattr(func, _SQLITE_ARM)(experiment.salt, Account.id,
                                      experiment.challenger_percent), sqlite_insert


def assign(experiment: Experiment, today: date) -> dict[str, int]:
    """Give every account of the experiment's population without an arm its arm (dated
    `today`); returns how many went to each arm. Flushed with the session's transaction."""
    arm, insert = _arm(experiment)
    taken = exists().where(EA.experiment_id == experiment.id, EA.account_id == Account.id)
    population = (select(literal(experiment.id), Account.id, arm, literal(today))
                  .where(Account.policy_profile == experiment.profile,
                         Account.status == AccountStatus.OPEN,
                         Account.oldest_unpaid_due_date.is_not(None), ~taken)
                  .order_by(Account.id))
    statement = (insert(EA).from_select(["experiment_id", "account_id", "arm", "assigned_on"],
                                        population)
                 .on_conflict_do_nothing(index_elements=["experiment_id", "account_id"])
                 .returning(EA.arm))
    counts = dict.fromkeys(ARMS, 0)
    for drawn in db.session.scalars(statement):
        counts[drawn] += 1
    return counts


def assign_new(today: date) -> dict[str, int]:
    """The assignment job: for every experiment not ended or stopped by `today`, the
    accounts that entered its population since and have no arm yet. Each experiment that
    gained accounts gets an `experiments.assigned` audit event. The caller commits."""
    open_ = db.session.scalars(select(Experiment).where(
        Experiment.ends_on >= today,
        or_(Experiment.stopped_on.is_(None), Experiment.stopped_on > today))
        .order_by(Experiment.id)).all()
    total = {"experiments": len(open_), "assigned": 0}
    for experiment in open_:
        counts = assign(experiment, today)
        if any(counts.values()):
            total["assigned"] += sum(counts.values())
            record("experiments.assigned", subject=experiment, actor=("system", "experiments"),
                   after={"on": today.isoformat(), "accounts": counts})
    return total
