"""Operator commands: each feature keeps its own group; this only registers them."""


def register(app):
    from portal.audit.cli import audit_cli
    from portal.outbox.cli import outbox_cli

    for group in (audit_cli, outbox_cli):
        app.cli.add_command(group)
    from portal.accounts.cli import accounts_cli
    app.cli.add_command(accounts_cli)
    from portal.demo.cli import demo_cli
    app.cli.add_command(demo_cli)
    from portal.staff.cli import staff_cli
    app.cli.add_command(staff_cli)
    from portal.jobs.cli import jobs_cli
    app.cli.add_command(jobs_cli)  # nightly; payments adds autopay/reconcile to this group
    from portal.payments.cli import register as register_payments
    register_payments(app)  # after the jobs group: adds `jobs autopay` and `jobs reconcile`
    import portal.plans.cli  # noqa: F401  (adds `flask jobs plans` to the jobs group)
    from portal.exports.cli import exports_cli
    app.cli.add_command(exports_cli)
    from portal.disputes.cli import disputes_cli
    app.cli.add_command(disputes_cli)
    from portal.contact.cli import contact_cli
    app.cli.add_command(contact_cli)
