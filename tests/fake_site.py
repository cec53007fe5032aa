"""An office's web site, faked on 127.0.0.1 with http.server in a thread, for the publisher tests.

Tell it what to do with each coming POST (``site.will("503", "503", "accept")``): "accept", an HTTP
status such as "500", "503", "429", "400", "413", or "accept_then_timeout" (store the post, then
answer only after the client has given up), or "hang" (store nothing, answer 504 only after
``slow_seconds``: a site that always times out). ``site.down()`` makes it go away (connection
refused) and ``site.up()`` brings it back on the same port. It counts POSTs per idempotency key.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "test-token"


class FakeSite:
    def __init__(self, *, slow_seconds: float = 1.5) -> None:
        self.slow_seconds = slow_seconds
        self.retry_after: int | None = None  # sent with 429 when set
        self.script: deque[str] = deque()
        self.posts: dict[str, dict[str, Any]] = {}  # idempotency key -> payload
        self.post_count: Counter[str] = Counter()
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def will(self, *actions: str) -> FakeSite:
        self.script.extend(actions)
        return self

    def up(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                site.requests.append(("GET", self.path))
                key = parse_qs(urlsplit(self.path).query).get("idempotency_key", [""])[0]
                with site.lock:
                    found = site.posts.get(key)
                if found is None:
                    self._send(404, {"error": "not found"})
                else:
                    self._send(200, {"id": found["_id"], "url": found["_url"]})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                site.requests.append(("POST", self.path))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, {"error": "bad token"})
                    return
                with site.lock:
                    action = site.script.popleft() if site.script else "accept"
                if action == "hang":
                    time.sleep(site.slow_seconds)
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self._send(504, {"error": "too slow"})
                    return
                if action.isdigit():
                    headers = {"Retry-After": str(site.retry_after)} if action == "429" and site.retry_after else {}
                    self._send(int(action), {"error": f"scripted {action}"}, headers)
                    return
                payload = json.loads(body)
                with site.lock:
                    site.post_count[key] += 1
                    if key not in site.posts:  # a real site honouring Idempotency-Key
                        n = len(site.posts) + 1
                        site.posts[key] = {**payload, "_id": str(n), "_url": f"https://site.example/news/{n}"}
                    found = site.posts[key]
                if action == "accept_then_timeout":
                    time.sleep(site.slow_seconds)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(201, {"id": found["_id"], "url": found["_url"]})

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def total_posts(self) -> int:
        return sum(self.post_count.values())
