"""`python -m worker.migrate`: apply the database migrations and exit."""

from __future__ import annotations

import asyncio
import logging

from core.db import migrate
from core.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set")
    applied = asyncio.run(migrate(settings.database_url))
    print("applied:", ", ".join(applied) or "nothing (schema up to date)")


if __name__ == "__main__":
    main()
