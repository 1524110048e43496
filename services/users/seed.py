"""Demo data for `make run`: an admin, a moderator and twenty users with profiles.

Idempotent: accounts that already exist are left as they are, so every run after
the first changes nothing.
"""

from __future__ import annotations

import asyncio

from services.users import SPEC, repository, repository_profiles
from services.users.deps import now
from services.users.passwords import Passwords
from services.users.settings import UsersSettings
from shared.config import load_settings
from shared.db import Database
from shared.ids import new_id

CITIES = ["Cairo", "Lagos", "Lisbon", "Osaka", "Lima", "Oslo", "Pune", "Quito", "Tunis", "Hanoi"]
TOPICS = ["photography", "cycling", "cooking", "jazz", "chess", "hiking", "poetry", "robotics"]

# (username, password, role, display name, bio, location)
DEMO_ACCOUNTS = [
    ("admin", "admin-password-1", "admin", "Daira Admin", "Keeps the lights on.", "Cairo"),
    ("moderator", "moderator-password-1", "moderator", "Daira Moderator", "Reviews reports.", ""),
] + [
    (
        f"demo{n:02d}",
        "demo-password-1",
        "user",
        f"Demo User {n:02d}",
        f"Into {TOPICS[n % len(TOPICS)]} and {TOPICS[(n * 3) % len(TOPICS)]}.",
        CITIES[n % len(CITIES)],
    )
    for n in range(1, 21)
]
# Approves each follower, so the social demo has follow requests.
LOCKED_ACCOUNTS = frozenset({"demo07"})


async def seed(settings: UsersSettings) -> int:
    """Create the demo accounts that are missing; how many were created."""
    db = Database(settings.database_url, pool_size=1, max_overflow=0)
    passwords = Passwords(
        settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism
    )
    created = 0
    try:
        for username, password, role, display_name, bio, location in DEMO_ACCOUNTS:
            async with db.transaction() as conn:
                if await repository.find_for_login(conn, username) is not None:
                    continue
                user_id = new_id()
                await repository.insert_user(
                    conn,
                    user_id=user_id,
                    username=username,
                    email=f"{username}@demo.daira.dev",
                    password_hash=await passwords.hash(password),
                    display_name=display_name,
                    role=role,
                    now=now(),
                )
                await repository_profiles.update_profile(
                    conn,
                    user_id,
                    expected_version=None,
                    profile_values={"bio": bio, "location": location},
                    account_values={"locked": username in LOCKED_ACCOUNTS},
                    now=now(),
                )
                created += 1
    finally:
        await db.dispose()
    return created


if __name__ == "__main__":
    count = asyncio.run(seed(load_settings(UsersSettings, SPEC.name)))
    print(f"users: {count} demo accounts created")
