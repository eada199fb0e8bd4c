"""page_version: a new account gets its token with its first change, not at its insert

An account's page-version token (0030_page_version) was written by its own INSERT and then
renewed at once by its opening ledger entries' INSERT, in the same transaction: on a feed's
first load, 20,000 tokens written twice. A token only tells readers that an account's
figures changed since they kept them, and nobody can have kept the figures of an account
before it exists: without a token an account's figures are built, never kept
(`figures.keys_for`), until any watched write (its first ledger entry, any update of the
account row, ...) inserts the token, as those triggers already do for a missing row. So the
account table's INSERT trigger goes; its UPDATE and DELETE triggers stay.

Revision ID: 0035_token_on_first_entry
Revises: 0034_inbox_monitoring
Create Date: 2026-12-07 13:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0035_token_on_first_entry'
down_revision = '0034_inbox_monitoring'
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if _postgresql():
        op.execute("DROP TRIGGER page_version_ins ON account")
    else:
        op.execute("DROP TRIGGER page_version_account_ins")


def downgrade():
    if _postgresql():
        op.execute("CREATE TRIGGER page_version_ins AFTER INSERT ON account "
                   "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
                   "EXECUTE FUNCTION portal_page_version_account()")
    else:
        op.execute("""
            CREATE TRIGGER page_version_account_ins AFTER INSERT ON account
            BEGIN
                INSERT INTO page_version (account_id, token)
                SELECT NEW.id, random() WHERE true
                ON CONFLICT (account_id) DO UPDATE SET token = excluded.token;
            END""")
