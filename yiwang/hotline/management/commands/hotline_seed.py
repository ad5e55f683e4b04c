"""`yiwang hotline_seed [--tickets N]`: the demo city's hotline categories and routing rules,
and with --tickets, demo tickets over the past ~90 days up to N in all (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.hotline.seed import hotline_configuration_ensure


class Command(BaseCommand):
    help = (
        "Create the demo hotline categories and routing rules that are missing; with --tickets N, "
        "top the hotline up to N demo tickets moved round the loop by the real services."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets",
            type=int,
            default=0,
            metavar="N",
            help="top the hotline up to N tickets over the past ~90 days (the demo uses 300)",
        )
        parser.add_argument("--seed", type=int, default=12345, help="random seed of the demo tickets")

    def handle(self, *args, **options) -> None:
        created = hotline_configuration_ensure()
        self.stdout.write(
            f"hotline configuration: {created['categories']} categories, {created['rules']} rules created"
        )
        if options["tickets"] > 0:
            from yiwang.hotline.demo import hotline_demo_tickets

            made = hotline_demo_tickets(count=options["tickets"], seed=options["seed"])
            self.stdout.write(f"hotline demo tickets: {made} created (up to {options['tickets']})")
