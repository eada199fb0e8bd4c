"""The job engine's entry point (docs/operations.md, "Scheduled jobs"):

    celery -A worker:celery worker --loglevel=INFO     # one or more workers
    celery -A worker:celery beat --loglevel=INFO       # exactly one scheduler
"""
from portal import create_app

app = create_app()
celery = app.extensions["celery"]
