"""Password rules beyond Django's own validators."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """A password of at most `max_length` characters: hashing a megabyte-long password on every
    login attempt would be a cheap way to keep the server busy."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at most %(max_length)d character.",
            "Your password must contain at most %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with parameters measured on our 2-core servers: about 40–60 ms a hash (Django's
    defaults, 100 MiB and 8 lanes, take about 0.4–1.2 s here, PBKDF2's million rounds 2 s).

    19 MiB and 3 passes are above OWASP's floor for Argon2id (19 MiB, 2 passes, 1 lane); one
    lane, because a login runs in one worker of a 2-core machine. `make bench` prints the
    figures. A hash made with other parameters (Django's own Argon2, PBKDF2) is rewritten with
    these at its owner's next login.
    """

    time_cost = 3
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
