"""The production check (`make prod-check`): the portal as an issuer runs it, on one machine.

Two gunicorn processes in production settings, two Celery workers and beat on RabbitMQ,
PostgreSQL, Redis, a real SMTP server, an SMS provider's HTTP peer and a Stripe peer
(localstripe). A cardholder signs in on one web process and pays; the provider's webhook lands
on the other; the nightly run goes through the workers while one of them is killed; the
receipt arrives at the SMTP server; a backup restores into a fresh database whose audit log
verifies and whose balances match. `python -m tests.prodcheck` runs it (docs/operators-guide.md).
"""
