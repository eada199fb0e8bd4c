"""page_version: a token per account that triggers renew with every change to its page figures

The dashboard and the timeline keep each account's figures (balance and consequence
timeline) per web process, keyed by this token (portal/account_pages/figures.py). Every
table the figures are derived from renews the token of the accounts a write touches, in the
same transaction, by trigger: on PostgreSQL one statement-level trigger per table and
operation (transition tables: a nightly batch of thousands of entries renews each account
once, in account order), on SQLite one row-level trigger per table and operation. Row 0 is
renewed by any policy version. Tokens come from a sequence on PostgreSQL and from random() on
SQLite: never reused, so a rolled-back write cannot bring an old token back.

Revision ID: 0030_page_version
Revises: 0029_instalment_credited
Create Date: 2026-12-06 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_page_version'
down_revision = '0029_instalment_credited'
branch_labels = None
depends_on = None

# table -> (PostgreSQL: the account ids a set of `changed` rows touches,
#           SQLite: the same for one row `R` with a token `{t}`, with a WHERE clause, which
#           SQLite's upsert after a SELECT needs)
# ledger_snapshot is left out: a snapshot only restates the ledger's sums (the snapshot
# property tests), it never changes a figure.
DIRECT = ("ledger_entry", "journal_ack", "consequence_event", "notice",
          "stage_change", "dispute", "plan", "promise_to_pay", "legal_action")
SOURCES = {table: ("SELECT account_id FROM changed",
                   "SELECT R.account_id, {t} WHERE R.account_id IS NOT NULL") for table in DIRECT}
SOURCES.update({
    "account": ("SELECT id FROM changed", "SELECT R.id, {t} WHERE true"),
    "plan_instalment": ("SELECT p.account_id FROM changed c JOIN plan p ON p.id = c.plan_id",
                        "SELECT account_id, {t} FROM plan WHERE id = R.plan_id"),
    "plan_revision": ("SELECT p.account_id FROM changed c JOIN plan p ON p.id = c.plan_id",
                      "SELECT account_id, {t} FROM plan WHERE id = R.plan_id"),
    "care_record": ("SELECT a.id FROM changed c JOIN account a "
                    "ON a.cardholder_id = c.cardholder_id",
                    "SELECT id, {t} FROM account WHERE cardholder_id = R.cardholder_id"),
    "policy_version": ("SELECT 0 FROM changed", "SELECT 0, {t} WHERE true"),
})
OPS = (("INSERT", "NEW", "ins"), ("UPDATE", "NEW", "upd"), ("DELETE", "OLD", "del"))


def _pg_upgrade():
    op.execute("CREATE SEQUENCE page_version_token")
    for table, (touched, _) in SOURCES.items():
        op.execute(f"""
            CREATE FUNCTION portal_page_version_{table}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO page_version (account_id, token)
                SELECT account_id, nextval('page_version_token')
                FROM (SELECT DISTINCT touched.account_id
                      FROM ({touched}) AS touched (account_id)
                      WHERE touched.account_id IS NOT NULL) AS ids
                ORDER BY account_id
                ON CONFLICT (account_id) DO UPDATE SET token = EXCLUDED.token;
                RETURN NULL;
            END $$""")
        for event, rows, short in OPS:
            op.execute(f"CREATE TRIGGER page_version_{short} AFTER {event} ON {table} "
                       f"REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION portal_page_version_{table}()")
    op.execute("INSERT INTO page_version (account_id, token) "
               "SELECT id, nextval('page_version_token') FROM account "
               "UNION ALL SELECT 0, nextval('page_version_token')")


def _sqlite_upgrade():
    for table, (_, touched) in SOURCES.items():
        for event, rows, short in OPS:
            op.execute(f"""
                CREATE TRIGGER page_version_{table}_{short} AFTER {event} ON {table}
                BEGIN
                    INSERT INTO page_version (account_id, token)
                    {touched.replace('R.', rows + '.').format(t='random()')}
                    ON CONFLICT (account_id) DO UPDATE SET token = excluded.token;
                END""")
    op.execute("INSERT INTO page_version (account_id, token) "
               "SELECT id, random() FROM account UNION ALL SELECT 0, random()")


def upgrade():
    op.create_table(
        'page_version',
        sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_page_version')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table in SOURCES:
        for _, _, short in OPS:
            op.execute(f"DROP TRIGGER IF EXISTS page_version_{short} ON {table}" if postgresql
                       else f"DROP TRIGGER IF EXISTS page_version_{table}_{short}")
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS portal_page_version_{table}()")
    op.drop_table('page_version')
    if postgresql:
        op.execute("DROP SEQUENCE IF EXISTS page_version_token")
