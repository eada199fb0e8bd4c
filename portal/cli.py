"""Operator commands: each feature keeps its own group; this only registers them."""
from portal.audit.cli import audit_cli
from portal.contact.cli import contact_cli
from portal.demo.cli import demo_cli
from portal.disputes.cli import disputes_cli
from portal.exports.cli import exports_cli
from portal.jobs.cli import jobs_cli
from portal.journal.cli import journal_cli
from portal.journal.feed_cli import accounts_cli  # `flask accounts import`: the feed
from portal.outbox.cli import outbox_cli
from portal.payments.cli import register as register_payments
from portal.plans.cli import plans_command
from portal.staff.cli import staff_cli


def register(app):
    jobs_cli.add_command(plans_command)  # `flask jobs plans`
    for group in (audit_cli, outbox_cli, accounts_cli, demo_cli, staff_cli, jobs_cli,
                  exports_cli, disputes_cli, contact_cli, journal_cli):
        app.cli.add_command(group)
    register_payments(app)  # `flask payments ...`, and `jobs autopay` / `jobs reconcile`
