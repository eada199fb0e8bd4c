"""one_tap_link and message_outcome: one-tap links in messages and what they led to (issue 16)

Only the SHA-256 of a link's token is stored. message_outcome ties a payment, plan or promise
made after following a link to the message that carried it.

Revision ID: 0026_onetap_links
Revises: 0024_figures_experiments
Create Date: 2026-12-06 09:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_onetap_links'
down_revision = '0024_figures_experiments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'one_tap_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('cardholder_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('session_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_checks', sa.Integer(), server_default='0', nullable=False),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('pay_instalment', 'pay', 'plan_offers')",
                           name=op.f('ck_one_tap_link_purpose_known')),
        sa.CheckConstraint('failed_checks >= 0',
                           name=op.f('ck_one_tap_link_failed_checks_not_negative')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_one_tap_link_account_id_account')),
        sa.ForeignKeyConstraint(['cardholder_id'], ['cardholder.id'],
                                name=op.f('fk_one_tap_link_cardholder_id_cardholder')),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'],
                                name=op.f('fk_one_tap_link_message_id_outbox_message')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_one_tap_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_one_tap_link_token_hash')),
    )
    op.create_index('ix_one_tap_link_account_purpose', 'one_tap_link',
                    ['account_id', 'purpose'], unique=False)
    op.create_index(op.f('ix_one_tap_link_cardholder_id'), 'one_tap_link', ['cardholder_id'],
                    unique=False)
    op.create_index(op.f('ix_one_tap_link_message_id'), 'one_tap_link', ['message_id'],
                    unique=False)
    op.create_table(
        'message_outcome',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('payment', 'plan', 'promise')",
                           name=op.f('ck_message_outcome_kind_known')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_message_outcome_account_id_account')),
        sa.ForeignKeyConstraint(['link_id'], ['one_tap_link.id'],
                                name=op.f('fk_message_outcome_link_id_one_tap_link')),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'],
                                name=op.f('fk_message_outcome_message_id_outbox_message')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_outcome')),
        sa.UniqueConstraint('kind', 'object_id', name=op.f('uq_message_outcome_kind_object_id')),
    )
    op.create_index(op.f('ix_message_outcome_account_id'), 'message_outcome', ['account_id'],
                    unique=False)
    op.create_index(op.f('ix_message_outcome_link_id'), 'message_outcome', ['link_id'],
                    unique=False)
    op.create_index(op.f('ix_message_outcome_message_id'), 'message_outcome', ['message_id'],
                    unique=False)


def downgrade():
    op.drop_table('message_outcome')
    op.drop_table('one_tap_link')
