"""Password hashing (Werkzeug's scrypt) and the length rule (ASVS: at least 8, up to 64 allowed)."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValueError(f"password must be {MIN_LENGTH}-{MAX_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def verify_password(stored: str | None, password: str) -> bool:
    if not stored or len(password) > MAX_LENGTH:
        return False
    return check_password_hash(stored, password)
