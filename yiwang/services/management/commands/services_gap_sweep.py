"""Remind, revoke and close tolerated gaps and pledges now (the task runner does it hourly)."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yiwang.services.gaps import gaps_sweep


class Command(BaseCommand):
    help = "Sweep tolerated gaps (容缺) and pledges (告知承诺): reminders, revocations, closing."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Sweep as at this ISO date or datetime (for trials).")

    def handle(self, *args, **options):
        now = None
        if options.get("now"):
            try:
                now = datetime.datetime.fromisoformat(options["now"])
            except ValueError as error:
                raise CommandError(f"--now: {error}") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        result = gaps_sweep(now=now)
        self.stdout.write(
            f"reminded={len(result.reminded)} revoked={len(result.revoked)} "
            f"closed={len(result.closed)} pledges_overdue={len(result.pledges_overdue)}"
        )
