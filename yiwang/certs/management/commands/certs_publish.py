"""`yiwang certs_publish`: push the e-certificate register to the exchange (resource
zs.e_certificates), idempotent; run it after certs_seed and then periodically (e.g. hourly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.certs.publish import RESOURCE_CODE, certificates_publish


class Command(BaseCommand):
    help = "Publish every e-certificate's register entry to the exchange as the records of zs.e_certificates."

    def handle(self, *args, **options) -> None:
        result = certificates_publish()
        self.stdout.write(
            f"certs → exchange {RESOURCE_CODE}: " + ", ".join(f"{k}={v}" for k, v in result.items())
        )
