"""`yiwang instant_seed`: the demo city's rules-approvable matters (秒批), their rules and the
certificate types they issue (idempotent). Run after certs_seed and services_seed."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Mark the demo matters approvable at once by rule (秒批) and load their rules."

    def handle(self, *args, **options) -> None:
        from yiwang.services.instant_seed import instant_seed

        done = instant_seed()
        for name, reason in done["skipped"].items():
            self.stdout.write(f"rule file {name} skipped: {reason}")
        self.stdout.write(
            f"instant approval: rules {', '.join(f'{code} v{number}' for code, number in done['rules'].items()) or '—'}; "
            f"{len(done['types_saved'])} certificate types saved, {len(done['matters_marked'])} matters marked, "
            f"{done['grants']} sharing grants made"
        )
