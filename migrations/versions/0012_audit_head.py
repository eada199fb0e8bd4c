"""audit_head: the audit chain's length and newest link, rewritten by every append

Without it, deleting the newest audit events leaves a chain that still links up, and
`flask audit verify` cannot tell. The row is written from the chain as it stands: run
`flask audit verify` before upgrading, since whatever the log holds now becomes the reference.

Revision ID: 0012_audit_head
Revises: 0011_refund_seq
Create Date: 2026-11-30 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_audit_head'
down_revision = '0011_refund_seq'
branch_labels = None
depends_on = None

GENESIS = '0' * 64  # portal.audit.services.GENESIS: the empty chain's "previous hash"


def upgrade():
    head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_count', sa.BigInteger(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('event_count >= 0', name=op.f('ck_audit_head_count_not_negative')),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    event = sa.table('audit_event', sa.column('id', sa.Integer()), sa.column('hash', sa.String()))
    conn = op.get_bind()
    count = conn.execute(sa.select(sa.func.count()).select_from(event)).scalar_one()
    newest = conn.execute(sa.select(event.c.id, event.c.hash)
                          .order_by(event.c.id.desc()).limit(1)).first()
    op.bulk_insert(head, [{'id': 1, 'event_count': count,
                           'last_id': newest.id if newest else None,
                           'last_hash': newest.hash if newest else GENESIS}])


def downgrade():
    op.drop_table('audit_head')
