"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...` for the operator CLI."""
import gc

from portal import create_app

app = create_app()
# What the app built at start (modules, models, compiled statements, the translations) lives
# as long as the process: kept out of the cyclic collector's reach, so its full collections,
# which otherwise walk all of it every few hundred requests, see only what requests left
# (issue 15: about a tenth of a staff list's CPU). Nothing is ever freed the later.
gc.freeze()
