"""`yiwang relapse load | screen --rule … --on … | tick | sweep`: the relapse screenings by hand.

yiwang relapse load                                   # load the rule files (idempotent)
yiwang relapse screen --rule relapse.medical --on 2026-11-26
yiwang relapse tick [--on 2026-11-26]                 # what the schedule would run now
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.errors import DomainError


class Command(BaseCommand):
    help = "Relapse monitoring: load the screening rules, screen on demand, run the schedule's tick."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load", "screen", "tick"])
        parser.add_argument(
            "--rule", default="", help="relapse.medical, relapse.disaster or relapse.accident"
        )
        parser.add_argument("--on", default="", help="evaluation date YYYY-MM-DD (default: today)")

    def handle(self, *args, action: str, rule: str, on: str, **options):
        from django.utils import timezone

        from yiwang.relapse import services
        from yiwang.relapse.tasks import relapse_tick

        try:
            day = datetime.date.fromisoformat(on) if on else timezone.localdate()
        except ValueError:
            raise CommandError(f"--on: not a date (YYYY-MM-DD): {on!r}") from None
        try:
            if action == "load":
                for code, version in services.relapse_rules_load().items():
                    self.stdout.write(f"{code}: version {version.number} in force")
            elif action == "screen":
                if not rule:
                    raise CommandError(f"--rule is required: one of {', '.join(services.RULE_CODES)}")
                run = services.screen(rule_code=rule, on=day, actor="system:relapse-command")
                self.stdout.write(
                    f"{run.rule_code} v{run.rule_version} as of {run.on}: {run.flagged} flagged, {run.created} new warnings"
                )
            else:
                now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10))) if on else None
                ran = relapse_tick(now=now)
                self.stdout.write(
                    ", ".join(f"{code}: {count} new" for code, count in ran.items()) or "nothing due"
                )
        except DomainError as error:
            raise CommandError(str(error)) from None
