"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the tests of notifications' e-mail: the edge the
product talks to, nothing faked inside it. The ``smtp`` fixture (tests/conftest.py) starts one."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class SmtpInbox:
    """What the server received: (recipients, raw message) per e-mail."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def mails(self, to_prefix: str = "") -> list[EmailMessage]:
        """The e-mails to recipients starting with ``to_prefix`` (an office's logins), parsed."""
        out = []
        for rcpts, raw in self.messages:
            if any(r.startswith(to_prefix) for r in rcpts):
                msg = message_from_bytes(raw, policy=policy.default)
                assert isinstance(msg, EmailMessage)
                out.append(msg)
        return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    port = free_port()
    inbox = SmtpInbox(port)
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()
    asyncio.set_event_loop(asyncio.new_event_loop())


def body_of(msg: EmailMessage) -> str:
    """The text of an e-mail, line ends as written (SMTP carries them as CRLF)."""
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")
