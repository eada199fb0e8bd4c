"""A real local S3-compatible server for the document-store tests: moto in server mode, in a
process of its own on a free loopback port, with dummy credentials (it checks none).

`s3_documents` switches the session's app to STORAGE_BACKEND=s3 against it for one test;
`document_backend` runs a test once on each backend (local folder, then the bucket).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from portal.core.storage import document_store
from tests.clock import child_environ
from tests.delivery_peers import free_port

BUCKET = "portal-documents"
PREFIX = "documents/"
REGION = "us-east-1"
# boto3 reads credentials from the environment; these stop it looking anywhere else.
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}


class MotoS3Server:
    def __init__(self):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 30.0):
        # Without libfaketime (the run at a later date): the server keeps the real clock, as a
        # real bucket would; it checks no signature times.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_environ())
        pause = threading.Event()  # a timed wait, not time.sleep (which libfaketime breaks)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                pause.wait(0.1)
        self.stop()
        raise RuntimeError("moto server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            # A timer kills it if it has not gone in 10 s (a timed wait() polls with
            # time.sleep, which libfaketime breaks).
            killer = threading.Timer(10, self.process.kill)
            killer.start()
            try:
                self.process.wait()
            finally:
                killer.cancel()


def s3_settings(endpoint_url: str, **overrides) -> dict:
    settings = {"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": BUCKET, "STORAGE_S3_PREFIX": PREFIX,
                "STORAGE_S3_ENDPOINT_URL": endpoint_url, "STORAGE_S3_REGION": REGION,
                "STORAGE_S3_SSE": "AES256", "STORAGE_S3_KMS_KEY_ID": None,
                "STORAGE_S3_ADDRESSING_STYLE": "auto"}
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def s3_server():
    """The moto server, one per test worker, with the dummy credentials in the environment."""
    saved = {name: os.environ.get(name) for name in AWS_ENV}
    os.environ.update(AWS_ENV)
    server = MotoS3Server().start()
    yield server
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture()
def s3_documents(app, db, s3_server):
    """The app stores documents in the moto bucket for this test; yields the S3Store."""
    saved = {name: app.config.get(name) for name in s3_settings("")}
    app.config.update(s3_settings(s3_server.endpoint_url))
    store = document_store(app)
    try:
        store.client.create_bucket(Bucket=BUCKET)
    except store.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    yield store
    listing = store.client.list_objects_v2(Bucket=BUCKET)
    for item in listing.get("Contents", []):
        store.client.delete_object(Bucket=BUCKET, Key=item["Key"])
    app.config.update(saved)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def document_backend(request):
    """Run the test on the local folder, then on the S3 bucket: the name of the backend."""
    if request.param == "s3":
        request.getfixturevalue("s3_documents")
    return request.param
