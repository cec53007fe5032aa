"""A TCP proxy on 127.0.0.1 that holds back what the server sends by a set delay (toxiproxy's
``latency`` toxic, which is not installed here): put it between a client and a private Redis to
make that Redis answer slowly, then set the delay back to 0 at will."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class LatencyProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream_port``; every chunk from the server reaches the
    client ``latency`` seconds after it arrived (requests go through at once)."""

    def __init__(self, upstream_port: int, latency: float = 0.0) -> None:
        self.upstream_port = upstream_port
        self.latency = latency
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, name="latency-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, delayed: bool) -> None:
        """Read from ``src``; write to ``dst`` (after the latency, for the server's side)."""
        held: queue.Queue[tuple[float, bytes]] = queue.Queue()
        if delayed:
            threading.Thread(target=self._release, args=(held, dst), daemon=True).start()
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delayed:
                    held.put((time.monotonic() + self.latency, data))
                else:
                    dst.sendall(data)
        except OSError:
            pass
        if delayed:
            held.put((0.0, b""))  # after what is held: close then
        else:
            self._shut(dst)

    def _release(self, held: queue.Queue[tuple[float, bytes]], dst: socket.socket) -> None:
        while True:
            due, data = held.get()
            if not data:
                self._shut(dst)
                return
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                dst.sendall(data)
            except OSError:
                return

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                self._shut(s)
                s.close()
