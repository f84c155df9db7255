"""Failure counters in the shared cache (Redis in production), for limits django-axes does not cover.

- Sign-in from one address: a password-spraying client tries one password against many usernames, which the
  per-user-and-address lockout never sees. After LOGIN_IP_FAILURE_LIMIT failures from one address within
  LOGIN_IP_WINDOW_MINUTES, every sign-in from it is refused until the window ends.
- The witness password on the controlled-substance log: checked without django-axes (a witness who mistypes must
  not be locked out of signing in), but limited per witness all the same.
"""

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int

    def _key(self, who: str) -> str:
        return f"throttle:{self.scope}:{who}"

    def is_blocked(self, who: str | None) -> bool:
        return bool(who) and (cache.get(self._key(who)) or 0) >= self.limit

    def fail(self, who: str | None) -> None:
        """Count one failure; the window starts with the first one."""
        if not who:
            return
        key = self._key(who)
        cache.add(key, 0, timeout=self.window_seconds)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start again
            cache.set(key, 1, timeout=self.window_seconds)

    def reset(self, who: str | None) -> None:
        if who:
            cache.delete(self._key(who))
