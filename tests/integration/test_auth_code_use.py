"""A verified one-time code sets a password once, even when two submissions race."""
import os
import threading

import pytest
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from portal.accounts.models import Cardholder
from portal.auth import services
from portal.auth.codes import issue_code
from portal.auth.models import CodePurpose, OneTimeCode
from portal.extensions import db as _db
from portal.timeutil import utcnow
from tests.conftest import CARDHOLDER_PASSWORD

FIRST = "lantern meadow copper river"
SECOND = "harbour violet granite spoon"


def _verified_reset_code(holder) -> int:
    row = issue_code(holder, CodePurpose.RESET)
    row.verified_at = utcnow()
    _db.session.commit()
    return row.id


def test_code_claimed_by_a_parallel_submission_sets_no_second_password(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    code_id = _verified_reset_code(holder)
    seen = _db.session.get(OneTimeCode, code_id)  # this request read the code unused ...
    assert seen.used_at is None
    # ... then a parallel request with the same code claimed it
    _db.session.execute(update(OneTimeCode).where(OneTimeCode.id == code_id)
                        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    with pytest.raises(services.CodeNotVerified):
        services.complete_reset(code_id, SECOND)
    assert check_password_hash(_db.session.get(Cardholder, holder.id).password_hash,
                               CARDHOLDER_PASSWORD)


def test_code_sets_the_password_and_cannot_be_used_again(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    code_id = _verified_reset_code(holder)
    services.complete_reset(code_id, FIRST)
    _db.session.commit()
    with pytest.raises(services.CodeNotVerified):
        services.complete_reset(code_id, SECOND)
    assert check_password_hash(_db.session.get(Cardholder, holder.id).password_hash, FIRST)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_parallel_password_submissions_with_one_code_set_the_password_once(app, make_cardholder):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    holder_id, code_id = holder.id, _verified_reset_code(holder)
    passwords = [FIRST, SECOND, FIRST + " x", SECOND + " y"]
    barrier = threading.Barrier(len(passwords))
    done = []

    def run(password):
        with app.test_request_context():
            try:
                row = _db.session.get(OneTimeCode, code_id)  # all read the code unused
                assert row.used_at is None
                barrier.wait()
                services.complete_reset(code_id, password)
                _db.session.commit()
                done.append(password)
            except services.CodeNotVerified:
                _db.session.rollback()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(p,)) for p in passwords]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 1
    _db.session.expire_all()
    stored = _db.session.scalar(select(Cardholder.password_hash).where(Cardholder.id == holder_id))
    assert check_password_hash(stored, done[0])
