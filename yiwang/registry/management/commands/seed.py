"""`seed --persons N --seed S`: load the city's reference data, generate the demo population
and ensure the demo logins.

Reference data and demo logins are ensured on every run. The population is generated only
into an empty registry: if it already has persons, the command says so and exits with 0 (it
does not top up). The same seed gives the same city.
"""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yiwang.core.reference import reference_load
from yiwang.registry.models import Person
from yiwang.registry.seed import demo_logins_ensure, registry_is_empty, registry_seed

ACTOR = "system:seed"


class Command(BaseCommand):
    help = "Generate the demo city (reference data, population, demo logins) deterministically from a seed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--persons", type=int, default=settings.YIWANG_DEMO_PERSONS, help="how many persons to generate"
        )
        parser.add_argument("--seed", type=int, default=settings.YIWANG_SEED, help="random seed")
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            default=None,
            help="the date the city is as of (YYYY-MM-DD; default 1 January of this year)",
        )
        parser.add_argument("--batch-size", type=int, default=20000, help="persons per transaction")

    def handle(self, *args, persons: int, seed: int, as_of, batch_size: int, **options):
        if persons < 0:
            raise CommandError("--persons must be 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.perf_counter()
        loaded = reference_load(actor=ACTOR)
        if loaded["divisions_created"] or loaded["departments_created"]:
            self.stdout.write(
                f"Reference data: {loaded['divisions_created']} divisions, "
                f"{loaded['departments_created']} departments created."
            )

        def progress(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            self.stdout.write(f"  {done:>10,} / {total:,} persons  ({elapsed:.1f} s)")

        if persons and not registry_is_empty():
            self.stdout.write(
                f"The registry already has {Person.objects.count():,} persons: nothing generated "
                "(seed only fills an empty registry)."
            )
        elif persons:
            self.stdout.write(f"Generating {persons:,} persons with seed {seed} …")
            result = registry_seed(
                persons=persons, seed=seed, actor=ACTOR, as_of=as_of, batch_size=batch_size, progress=progress
            )
            counts = ", ".join(f"{name} {value:,}" for name, value in result.counts().items())
            self.stdout.write(f"Generated as of {result.as_of}: {counts} in {result.seconds:.1f} s.")
        logins = demo_logins_ensure(actor=ACTOR)
        if logins["created"]:
            self.stdout.write(f"Demo logins created: {', '.join(logins['created'])}.")
        self.stdout.write(self.style.SUCCESS(f"Demo city ready in {time.perf_counter() - started:.1f} s."))
