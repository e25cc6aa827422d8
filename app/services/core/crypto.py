"""Secrets at rest (bureau client_secret, cached tokens), encrypted with Fernet."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: str | bytes):
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            # Never echo the ciphertext: a wrong ENCRYPTION_KEY is an operator error to report plainly.
            raise RuntimeError("could not decrypt a stored secret: is ENCRYPTION_KEY the one used to save it?") from exc

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"
