"""Batch jobs run by operators or a scheduler (`flask --app wsgi jobs ...`)."""
