"""`yiwang hotline_seed`: the demo city's hotline categories and routing rules (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.hotline.seed import hotline_configuration_ensure


class Command(BaseCommand):
    help = "Create the demo hotline categories and routing rules that are missing."

    def handle(self, *args, **options) -> None:
        created = hotline_configuration_ensure()
        self.stdout.write(
            f"hotline configuration: {created['categories']} categories, {created['rules']} rules created"
        )
