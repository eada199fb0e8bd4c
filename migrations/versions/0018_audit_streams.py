"""audit streams: keyed chains per stream, a head per stream, signed anchors

New audit events are signed with HMAC-SHA256 under a key from AUDIT_KEYS (each names its key)
and chained per stream (an account's events in its own stream), with a head row per stream and
signed global anchors (`flask audit anchor`). Existing events are not rewritten: they keep their
unkeyed SHA-256 chain as stream "legacy" with key id "legacy-sha256", verified the old way, and
the single-row audit_head becomes that stream's head. Run `flask audit verify` before upgrading
and `flask audit anchor` right after: from then on the legacy chain is signed by every anchor.
Columns are added with defaults, so no audit row is updated (the append-only trigger stays on).

Revision ID: 0018_audit_streams
Revises: 0017_plan_repriced
Create Date: 2026-12-06 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_audit_streams'
down_revision = '0017_plan_repriced'
branch_labels = None
depends_on = None

GENESIS = '0' * 64
LEGACY_STREAM = 'legacy'  # portal.audit.services.LEGACY_STREAM
LEGACY_KEY_ID = 'legacy-sha256'


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stream', sa.String(length=64), nullable=False,
                                      server_default=LEGACY_STREAM))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=False,
                                      server_default=LEGACY_KEY_ID))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('stream', server_default=None)
        batch_op.alter_column('key_id', server_default=None)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_stream_seq'),
                                          ['stream', 'seq'])

    heads = op.create_table('audit_stream_head',
    sa.Column('stream', sa.String(length=64), nullable=False),
    sa.Column('event_count', sa.BigInteger(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('event_count >= 0', name=op.f('ck_audit_stream_head_count_not_negative')),
    sa.PrimaryKeyConstraint('stream', name=op.f('pk_audit_stream_head'))
    )
    old = sa.table('audit_head', sa.column('event_count', sa.BigInteger()),
                   sa.column('last_id', sa.Integer()), sa.column('last_hash', sa.String()))
    head = op.get_bind().execute(sa.select(old.c.event_count, old.c.last_id, old.c.last_hash)).first()
    if head is not None and head.event_count:
        op.bulk_insert(heads, [{'stream': LEGACY_STREAM, 'event_count': head.event_count,
                                'last_id': head.last_id, 'last_hash': head.last_hash}])
    op.drop_table('audit_head')

    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('stream_count', sa.BigInteger(), nullable=False),
    sa.Column('event_count', sa.BigInteger(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE TRIGGER audit_anchor_append_only BEFORE UPDATE OR DELETE ON audit_anchor "
                   "FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_anchor_append_only ON audit_anchor")
    op.drop_table('audit_anchor')
    head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_count', sa.BigInteger(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('event_count >= 0', name=op.f('ck_audit_head_count_not_negative')),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # Only the legacy chain can be told by the old single chain; keyed events stay in the
    # table but the old `audit verify` will report them as breaks.
    heads = sa.table('audit_stream_head', sa.column('stream', sa.String()),
                     sa.column('event_count', sa.BigInteger()),
                     sa.column('last_id', sa.Integer()), sa.column('last_hash', sa.String()))
    legacy = op.get_bind().execute(sa.select(heads.c.event_count, heads.c.last_id, heads.c.last_hash)
                                   .where(heads.c.stream == LEGACY_STREAM)).first()
    op.bulk_insert(head, [{'id': 1, 'event_count': legacy.event_count if legacy else 0,
                           'last_id': legacy.last_id if legacy else None,
                           'last_hash': legacy.last_hash if legacy else GENESIS}])
    op.drop_table('audit_stream_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_stream_seq'), type_='unique')
        batch_op.drop_column('key_id')
        batch_op.drop_column('seq')
        batch_op.drop_column('stream')
