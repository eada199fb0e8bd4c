"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...` for the operator CLI."""
from portal import create_app

app = create_app()
