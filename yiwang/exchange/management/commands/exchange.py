"""`yiwang exchange verify`: walk the evidence chain of the exchange's reads and name every
changed, deleted or inserted row."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.exchange.evidence import evidence_chain_verify


class Command(BaseCommand):
    help = "Exchange tools. `exchange verify` checks the hash chain of the read evidence."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        checked, problems = evidence_chain_verify()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"evidence chain broken: {len(problems)} problem(s) in {checked} rows")
        self.stdout.write(self.style.SUCCESS(f"evidence chain intact: {checked} rows verified"))
