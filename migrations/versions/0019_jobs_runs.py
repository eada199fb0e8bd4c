"""job runs: every run of a scheduled job or operator command, and every nightly chunk

Revision ID: 0019_jobs_runs
Revises: 0018_audit_streams
Create Date: 2026-12-06 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_jobs_runs'
down_revision = '0018_audit_streams'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=64), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sa.String(length=128), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'retrying', 'succeeded', 'failed')",
                           name=op.f('ck_job_run_job_run_status')),
        sa.CheckConstraint('attempts >= 1', name=op.f('ck_job_run_job_run_attempts_positive')),
        sa.ForeignKeyConstraint(['parent_id'], ['job_run.id'],
                                name=op.f('fk_job_run_parent_id_job_run')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
        sa.UniqueConstraint('task_id', name=op.f('uq_job_run_task_id')),
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_job'), ['job'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_job_run_parent_id'))
        batch_op.drop_index(batch_op.f('ix_job_run_job'))
    op.drop_table('job_run')
