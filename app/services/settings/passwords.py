"""Password policy: a minimum length and a strength estimate (zxcvbn) that knows the user.

zxcvbn estimates how many guesses an attacker needs, from dictionaries of common passwords, names and
words, keyboard patterns, repeats, sequences and dates, plus the words we give it about the user
(login, name, e-mail) and about the product. Requiring its top score (about 10^10 guesses) refuses
`aaaaaaaaaaaa`, `123456789012`, `password1234` and `<login>2024!`, and accepts a random string or a
passphrase of a few uncommon words.
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_SCORE = 4  # zxcvbn 0..4; 4 = "very unguessable" (>= 10^10 guesses)
# zxcvbn only reads its first 100 characters anyway; a bound also keeps the estimate cheap.
MAX_LENGTH = 128

# Words an attacker tries first against this product, in Portuguese (zxcvbn's lists are English).
PRODUCT_WORDS = ("senha", "mudar", "trocar", "acesso", "entrar", "bemvindo", "brasil", "credito", "creditdesk",
                 "credit", "desk", "cobranca", "provedor", "internet", "fibra", "financeiro", "admin",
                 "administrador", "plataforma", "cliente", "usuario", "teste", "empresa", "qwerty")

POLICY_TEXT = (f"Use pelo menos {MIN_LENGTH} caracteres, sem palavras comuns, sequências, repetições, "
               "nem o seu login ou nome; uma frase de quatro palavras pouco comuns funciona bem.")


def _user_words(*values: str | None) -> list[str]:
    words: list[str] = []
    for value in values:
        text = (value or "").lower()
        if not text:
            continue
        words.append(text)
        words.extend(w for w in re.split(r"[^0-9a-zà-ÿ]+", text) if len(w) >= 3)
    return words


def password_problem(password: str, *, username: str = "", name: str = "", email: str | None = None) -> str | None:
    """A pt-BR reason the password is refused, or None when it meets the policy."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"A senha deve ter pelo menos {MIN_LENGTH} caracteres."
    if len(password) > MAX_LENGTH:
        return f"A senha deve ter no máximo {MAX_LENGTH} caracteres."
    result = zxcvbn(password, user_inputs=[*_user_words(username, name, email), *PRODUCT_WORDS])
    if result["score"] < MIN_SCORE:
        return "Senha fraca: fácil de adivinhar. " + POLICY_TEXT
    return None


def meets_policy(password: str, *, username: str = "", name: str = "", email: str | None = None) -> bool:
    return password_problem(password, username=username, name=name, email=email) is None
