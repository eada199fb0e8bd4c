"""disputes: currency of routing-rule amount bounds, SLA pauses, legal steps in the thread

Routing-rule bounds were minor units read as two-decimal amounts whatever the dispute's
currency. They now carry their currency and match only disputes in it. So that routing does
not change on upgrade, each existing rule with bounds gets the first currency in use on
accounts and a copy for every other one, with the same minor-unit bounds (exactly what the
old code compared). With no accounts yet, USD (what the old form parsed the bounds as).
Review copies in zero- or three-decimal currencies (JPY, BHD): the old reading was wrong
for them. Downgrade drops the column and keeps the copies.

Revision ID: 0007_disputes_bounds
Revises: 0006_contact
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_disputes_bounds'
down_revision = '0006_contact'
branch_labels = None
depends_on = None

RULE_COLUMNS = ('priority', 'category', 'language', 'min_amount', 'max_amount', 'queue_id')


def _give_bounds_a_currency():
    conn = op.get_bind()
    rule = sa.table('dispute_routing_rule', sa.column('id', sa.Integer),
                    sa.column('currency', sa.String), *(sa.column(c) for c in RULE_COLUMNS))
    account = sa.table('account', sa.column('currency', sa.String))
    currencies = sorted(conn.execute(sa.select(account.c.currency).distinct()).scalars())
    currencies = currencies or ['USD']
    bounded = conn.execute(sa.select(rule).where(
        sa.or_(rule.c.min_amount.isnot(None), rule.c.max_amount.isnot(None)))
        .order_by(rule.c.id)).mappings().all()
    for row in bounded:
        conn.execute(rule.update().where(rule.c.id == row['id'])
                     .values(currency=currencies[0]))
        for other in currencies[1:]:
            conn.execute(rule.insert().values(currency=other,
                                              **{c: row[c] for c in RULE_COLUMNS}))


def upgrade():
    op.create_table('dispute_sla_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('business_seconds', sa.Integer(), nullable=True),
    sa.CheckConstraint('business_seconds IS NULL OR business_seconds >= 0', name=op.f('ck_dispute_sla_pause_business_seconds_not_negative')),
    sa.CheckConstraint('ended_at IS NULL OR ended_at >= started_at', name=op.f('ck_dispute_sla_pause_ends_after_start')),
    sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_dispute_sla_pause_dispute_id_dispute')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_sla_pause'))
    )
    with op.batch_alter_table('dispute_sla_pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_sla_pause_dispute_id'), ['dispute_id'], unique=False)

    with op.batch_alter_table('dispute_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_step', sa.String(length=32), nullable=True))

    with op.batch_alter_table('dispute_routing_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
    _give_bounds_a_currency()
    with op.batch_alter_table('dispute_routing_rule', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_dispute_routing_rule_bounds_have_currency'),
            'currency IS NOT NULL OR (min_amount IS NULL AND max_amount IS NULL)')


def downgrade():
    with op.batch_alter_table('dispute_routing_rule', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_dispute_routing_rule_bounds_have_currency'), type_='check')
        batch_op.drop_column('currency')

    with op.batch_alter_table('dispute_message', schema=None) as batch_op:
        batch_op.drop_column('legal_step')

    with op.batch_alter_table('dispute_sla_pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_sla_pause_dispute_id'))

    op.drop_table('dispute_sla_pause')
