"""`yiwang services_seed`: the demo city's matter catalog (≥ 1,508 matters for the departments
of the core seed, their county branches and the town service centres) and the sharing grants
its forms need (idempotent: a second run changes nothing). Run after the core, registry and
exchange seeds."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or update the demo matter catalog and the grants its auto-filled forms need."

    def handle(self, *args, **options) -> None:
        from yiwang.services.demo import services_demo_seed

        counts = services_demo_seed()
        self.stdout.write(
            "services catalog: {created} created, {updated} updated, {unchanged} unchanged, "
            "{matters} matters in all; {grants} sharing grants made for auto-fill".format(**counts)
        )
