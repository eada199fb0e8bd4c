"""The job engine's entry point (docs/operations.md, "Scheduled jobs"):

    celery -A worker:celery worker --loglevel=INFO     # one or more workers
    celery -A worker:celery beat --loglevel=INFO       # exactly one scheduler
"""
import gc

from portal import create_app

app = create_app()
celery = app.extensions["celery"]
# As in wsgi.py: what the app built at start lives as long as the process (and the pool's
# forked children share it), so it is kept out of the cyclic collector's reach; its full
# collections then walk only what the tasks left (about a sixth of a nightly process's CPU
# was those collections, bench/README.md). Nothing is ever freed the later.
gc.freeze()
