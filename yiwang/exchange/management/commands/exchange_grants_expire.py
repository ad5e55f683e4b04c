from django.core.management.base import BaseCommand

from yiwang.exchange.services import grants_expire


class Command(BaseCommand):
    help = "Mark grants past their end as expired (reads refuse them from that moment anyway). Idempotent."

    def handle(self, *args, **options):
        count = grants_expire(actor="system:grants-expire")
        self.stdout.write(f"{count} grant(s) expired.")
