"""experiments: champion/challenger experiments defined by risk and each account's arm

An experiment varies the ready-made plan offers or the wording of a reminder between two
arms; every open overdue account of its profile is assigned to an arm when it is created,
and stays there (portal/experiments).

Revision ID: 0024_figures_experiments
Revises: 0024_promises_online
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_figures_experiments'
down_revision = '0024_promises_online'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'experiment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('profile', sa.String(length=16), nullable=False),
        sa.Column('a_name', sa.String(length=60), nullable=False),
        sa.Column('b_name', sa.String(length=60), nullable=False),
        sa.Column('a_settings', sa.JSON(), nullable=False),
        sa.Column('b_settings', sa.JSON(), nullable=False),
        sa.Column('challenger_percent', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stopped_on', sa.Date(), nullable=True),
        sa.Column('stopped_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('offers', 'reminder')", name=op.f('ck_experiment_kind_known')),
        sa.CheckConstraint('challenger_percent BETWEEN 1 AND 99',
                           name=op.f('ck_experiment_split_within')),
        sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_experiment_ends_after_start')),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'],
                                name=op.f('fk_experiment_created_by_id_staff_user')),
        sa.ForeignKeyConstraint(['stopped_by_id'], ['staff_user.id'],
                                name=op.f('fk_experiment_stopped_by_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment')),
    )
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_profile'), ['profile'], unique=False)
    op.create_table(
        'experiment_assignment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('experiment_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('arm', sa.String(length=1), nullable=False),
        sa.Column('assigned_on', sa.Date(), nullable=False),
        sa.CheckConstraint("arm IN ('a', 'b')", name=op.f('ck_experiment_assignment_arm_known')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_experiment_assignment_account_id_account')),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'],
                                name=op.f('fk_experiment_assignment_experiment_id_experiment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_assignment')),
        sa.UniqueConstraint('experiment_id', 'account_id', name='uq_experiment_assignment_account'),
    )
    with op.batch_alter_table('experiment_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_assignment_account_id'), ['account_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('experiment_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_assignment_account_id'))
    op.drop_table('experiment_assignment')
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_profile'))
    op.drop_table('experiment')
