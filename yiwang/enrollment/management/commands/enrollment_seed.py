"""`yiwang enrollment_seed`: the demo city's 2027 enrollment season (idempotent). Run after
`yiwang seed` and `yiwang exchange_seed`."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the demo 2027 enrollment season: schools, catchments, registrations and one allocation run."
    )

    def handle(self, *args, **options):
        from yiwang.enrollment.seed import enrollment_demo_seed

        started = time.perf_counter()
        result = enrollment_demo_seed()
        self.stdout.write(
            f"Enrollment 2027: {result['schools']} schools created, {result['registered']} children registered "
            f"({result['refused']} refused), 随迁子女 families created {result['migrant_families']} "
            f"(exchange records pushed {result['migrant_records']}), grants made {result['grants']}; "
            f"allocation run {result['run'] or 'already in force'} {result['stability']}"
        )
        self.stdout.write(
            self.style.SUCCESS(f"Enrollment demo ready in {time.perf_counter() - started:.1f} s.")
        )
