"""The floor for bench/pages.py: a bare Flask app whose one route returns "ok".

    gunicorn -w 2 -k sync --chdir bench bare:app
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return "ok"
