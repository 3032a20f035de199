"""Who may guess how often: passwords at sign-in, the current password, invitation codes and survey links.

A stranger must not be able to lock a person out, and must not be able to guess fast (docs/security.md has
the reasoning and the numbers):
- a login's failed tries count per client address: after `attempts` in a `window` that address is refused
  (429), and the person's own address is not;
- one address may fail `per_address` times per window whatever it tries (spraying many logins);
- a login that failed `attack` times in a window, from all addresses together, is under attack: an address
  it has not signed in from lately then waits its turn, one try per `slowdown` seconds for all such
  addresses together (slowed, never locked); an address it signed in from in the last `known_for` seconds
  is not slowed.
Only tries that reach the check count: one refused by a limit is not a guess. A success gives its try back.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import NamedTuple

from core.errors import NotFound, RateLimited
from core.ratelimit import AttemptLimiter, Ticket


class LoginTry(NamedTuple):
    login: str
    client: str
    tickets: tuple[Ticket, ...]


async def try_login(limiter: AttemptLimiter, login: str, client: str) -> LoginTry:
    """Count a sign-in try of `login` from `client` before its password is checked; RateLimited if it may
    not be tried now."""
    limits = limiter.limits
    counted: list[Ticket] = []
    try:
        counted.append(await limiter.attempt(f"login-from:{client}", limit=limits.per_address, window=limits.window))
        counted.append(await limiter.attempt(f"login:{login}:{client}", limit=limits.attempts, window=limits.window))
        attacked = await limiter.count(f"login-all:{login}", window=limits.window) >= limits.attack
        if attacked and not await limiter.remembers(f"known:{login}:{client}"):
            # the turn is used up whatever the password: it sets the pace, it is not a count of failures
            await limiter.attempt(f"login-turn:{login}", limit=1, window=limits.slowdown)
        counted.append(await limiter.attempt(f"login-all:{login}", limit=None, window=limits.window))
    except RateLimited:
        await limiter.refund(*counted)
        raise
    return LoginTry(login, client, tuple(counted))


async def signed_in(limiter: AttemptLimiter, done: LoginTry) -> None:
    """The password was right: the try is given back, the address's failures for this login are forgotten,
    and the address is known to the login from now on."""
    await limiter.refund(*done.tickets)
    await limiter.clear(f"login:{done.login}:{done.client}")
    await limiter.remember(f"known:{done.login}:{done.client}", seconds=limiter.limits.known_for)


async def try_secret(limiter: AttemptLimiter, secret: str, client: str) -> Ticket:
    """Count a guess of a secret other than a sign-in (`secret` says which: a person's current password, or
    invitation codes) from `client`; RateLimited after `attempts` in a window. Give the ticket back with
    `limiter.refund` when the guess was right."""
    limits = limiter.limits
    return await limiter.attempt(f"{secret}:{client}", limit=limits.attempts, window=limits.window)


def survey_links(limiter: AttemptLimiter, client: str) -> AbstractAsyncContextManager[None]:
    """Around opening a survey link: a token that names no link counts against `client`, which may send
    `per_address` of them per window (the tokens cannot be guessed; this stops an address wasting our time)."""
    limits = limiter.limits
    return limiter.counting_failures(
        f"survey-link:{client}", limit=limits.per_address, window=limits.window, failures=(NotFound,)
    )
