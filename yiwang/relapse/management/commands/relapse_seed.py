"""`yiwang relapse_seed`: the demo city's relapse monitoring (idempotent; see yiwang.relapse.demo)."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Load the relapse screening rules and make the demo's warnings and monitored households (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", default="", help="the demo's present, YYYY-MM-DD (default: today)")

    def handle(self, *args, today: str, **options):
        from yiwang.relapse.demo import relapse_demo_seed

        try:
            day = datetime.date.fromisoformat(today) if today else None
        except ValueError:
            raise CommandError(f"--today: not a date (YYYY-MM-DD): {today!r}") from None
        result = relapse_demo_seed(today=day)
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
