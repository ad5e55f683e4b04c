from django.core.management.base import BaseCommand

from yiwang.exchange.seed import exchange_demo_seed


class Command(BaseCommand):
    help = "Publish the demo city's data catalog (≥ 100 resources) with synthetic records. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--persons-per-feed", type=int, default=3000)

    def handle(self, *args, **options):
        result = exchange_demo_seed(persons_per_feed=options["persons_per_feed"])
        self.stdout.write(
            f"Published {result['resources_published']} resources ({result['resources']} in the catalog), "
            f"{result['records']} records pushed."
        )
