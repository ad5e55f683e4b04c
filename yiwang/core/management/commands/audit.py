"""`yiwang audit verify`: walk the hash chain and name every changed, deleted or inserted entry."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.audit import audit_verify


class Command(BaseCommand):
    help = "Audit log tools. `audit verify` checks the hash chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        checked, problems = audit_verify()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"audit chain broken: {len(problems)} problem(s) in {checked} entries")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {checked} entries verified"))
