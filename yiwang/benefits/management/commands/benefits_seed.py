"""`yiwang benefits_seed`: the demo city's no-application benefits — feeds, records, the four
policies, grants, demo staff roles and one approved run per policy (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yiwang.benefits.seed import benefits_demo_seed


class Command(BaseCommand):
    help = (
        "Publish the benefit policies' feeds with demo records, load the four policies, grant the "
        "departments what their rules read, and complete one approved run per policy. Run after "
        "`seed` and `exchange_seed`; safe to run again."
    )

    def handle(self, *args, **options) -> None:
        from yiwang.registry.models import Person

        if not Person.objects.exists():
            raise CommandError("The registry is empty: run `yiwang seed` first.")
        result = benefits_demo_seed()
        self.stdout.write(f"benefits feeds published: {', '.join(result['feeds_published']) or 'none new'}")
        self.stdout.write(
            "benefits records: " + ", ".join(f"{code} {count}" for code, count in result["records"].items())
        )
        self.stdout.write(
            f"benefits policies: {', '.join(result['policies'])}; grants made: {result['grants']}"
        )
        for line in result["runs"] or ["no new demo run (each policy's period already paid)"]:
            self.stdout.write(f"benefits run: {line}")
