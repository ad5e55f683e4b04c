"""`yiwang token create --user NAME --name SYSTEM`: an API token for a system (shown once)."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.models import User
from yiwang.core.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user (printed once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", required=True, help="the calling system, e.g. 住建局业务系统")
        parser.add_argument("--days", type=int, default=365)

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: no user named {options['user']!r}")
        _, plain = api_token_create(actor="cli", user=user, name=options["name"], days=options["days"])
        self.stdout.write(plain)
