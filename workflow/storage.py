"""Content-addressed file storage for attachments (and, later, generated documents)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes) -> tuple[str, str]:
        """Store ``content``; return (storage key, sha256). Storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(content).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        return key, digest

    def get(self, key: str) -> bytes:
        if ".." in key or key.startswith("/"):
            raise ValueError(key)
        return (self.root / key).read_bytes()


_default: FileStore | None = None


def default() -> FileStore:
    global _default
    if _default is None:
        from workflow.config import load_settings

        _default = FileStore(load_settings().instance_path / "files")
    return _default


def configure(root: Path) -> FileStore:
    global _default
    _default = FileStore(root)
    return _default
