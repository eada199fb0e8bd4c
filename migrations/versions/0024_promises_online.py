"""promise_to_pay: one model for promises logged by collectors and made online by cardholders

A promise now says who made it (`made_by`): a collector during a contact (`contact_id`,
`staff_id`, as before) or the cardholder online (`cardholder_id`, `ip_address`); a CHECK
refuses any other mix. `grace_days` (the policy's, when it was made) and `last_day`
(promised_on + grace_days: payments count and escalation stays paused until then) are
stored with it; existing promises get no grace (last_day = promised_on), so they are judged
exactly as before. `sent_reminder` gains the kind `promise_broken` (one notice per promise
broken).

Revision ID: 0024_promises_online
Revises: 0024_stafflists_list_indexes
Create Date: 2026-12-06 08:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_promises_online'
down_revision = '0024_stafflists_list_indexes'
branch_labels = None
depends_on = None

KINDS = "kind IN ('instalment_due_soon', 'instalment_missed', 'promise_due'"
ONE_SOURCE = ("(made_by = 'collector' AND contact_id IS NOT NULL AND staff_id IS NOT NULL"
              " AND cardholder_id IS NULL AND ip_address IS NULL)"
              " OR (made_by = 'cardholder' AND contact_id IS NULL AND staff_id IS NULL"
              " AND cardholder_id IS NOT NULL)")


def upgrade():
    with op.batch_alter_table('promise_to_pay', schema=None) as batch_op:
        # A plain string with its CHECK added below: an Enum's own constraint would be
        # written before its column in SQLite's table copy.
        batch_op.add_column(sa.Column('made_by', sa.String(length=32),
                                      server_default='collector', nullable=False))
        batch_op.add_column(sa.Column('cardholder_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ip_address', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('grace_days', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('last_day', sa.Date(), nullable=True))
    op.execute("UPDATE promise_to_pay SET last_day = promised_on")
    with op.batch_alter_table('promise_to_pay', schema=None) as batch_op:
        batch_op.alter_column('last_day', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('staff_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_promise_to_pay_cardholder_id_cardholder'),
                                    'cardholder', ['cardholder_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_promise_to_pay_last_day'), ['last_day'],
                              unique=False)
        batch_op.create_check_constraint('last_day_after_date', 'last_day >= promised_on')
        batch_op.create_check_constraint('grace_not_negative', 'grace_days >= 0')
        batch_op.create_check_constraint('promise_source',
                                         "made_by IN ('collector', 'cardholder')")
        batch_op.create_check_constraint('one_source', ONE_SOURCE)
    with op.batch_alter_table('sent_reminder', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sent_reminder_kind_known'), type_='check')
        batch_op.create_check_constraint('kind_known', KINDS + ", 'promise_broken')")


def downgrade():
    op.execute("DELETE FROM sent_reminder WHERE kind = 'promise_broken'")
    with op.batch_alter_table('sent_reminder', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sent_reminder_kind_known'), type_='check')
        batch_op.create_check_constraint('kind_known', KINDS + ")")
    # Promises made online have no contact to hang on: collection records are kept, so the
    # downgrade refuses rather than delete them.
    online = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM promise_to_pay WHERE made_by = 'cardholder'")).scalar()
    if online:
        raise RuntimeError(f"{online} promises were made online; downgrading would lose them")
    with op.batch_alter_table('promise_to_pay', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_promise_to_pay_one_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_promise_to_pay_promise_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_promise_to_pay_grace_not_negative'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_promise_to_pay_last_day_after_date'),
                                 type_='check')
        batch_op.drop_index(batch_op.f('ix_promise_to_pay_last_day'))
        batch_op.drop_constraint(batch_op.f('fk_promise_to_pay_cardholder_id_cardholder'),
                                 type_='foreignkey')
        batch_op.alter_column('staff_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('last_day')
        batch_op.drop_column('grace_days')
        batch_op.drop_column('ip_address')
        batch_op.drop_column('cardholder_id')
        batch_op.drop_column('made_by')
