"""The job engine: Celery tasks for every scheduled job, and their schedule (docs/operations.md)."""
