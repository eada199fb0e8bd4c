"""Real local peers for the outbox's transports: an SMTP server (aiosmtpd) and an SMS
provider's HTTP endpoint (http.server), each on a free loopback port in a thread of its own.

The SMTP server refuses a recipient whose local part starts with "refuse" (550, permanent) or
"later" (451, temporary). The HTTP peer answers with the status queued in `statuses` (202 when
none is queued) and records each request's headers and JSON body."""
from __future__ import annotations

import json
import socket
import threading
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Recorder:
    def __init__(self):
        self.received = []  # (envelope sender, recipients, parsed message)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("refuse"):
            return "550 5.1.1 no such mailbox"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mail = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
        return "250 Message accepted for delivery"


class SmtpPeer:
    def __init__(self, port: int | None = None, login: tuple[str, str] | None = None):
        """With `login` (user, password) the server requires AUTH (over plain loopback)."""
        self.port = port or free_port()
        self.recorder = _Recorder()
        auth = {}
        if login:
            expected = (login[0].encode(), login[1].encode())

            def authenticator(server, session, envelope, mechanism, data):
                ok = (data.login, data.password) == expected
                return AuthResult(success=ok, handled=False, auth_data=data)  # 235 or 535
            auth = {"auth_required": True, "auth_require_tls": False,
                    "authenticator": authenticator}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                     **auth)

    @property
    def received(self):
        return self.recorder.received

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


class HttpSmsPeer:
    def __init__(self):
        self.requests = []  # (headers, JSON body)
        self.statuses = []  # answers to give, in order; 202 when empty
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                peer.requests.append((dict(self.headers), body))
                status = peer.statuses.pop(0) if peer.statuses else 202
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())

            def log_message(self, *args):  # quiet in the test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
