"""`yiwang bundles_seed`: the demo city's 一件事 bundles (不动产转移登记, 企业开办, 新生儿出生一件事)
with their own matters, and the sharing grants their forms need (idempotent: a second run
changes nothing). Run after services_seed and certs_seed."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or update the demo 一件事 bundles and their matters."

    def handle(self, *args, **options) -> None:
        from yiwang.services.bundles import bundles_demo_seed

        counts = bundles_demo_seed()
        self.stdout.write(
            "bundles: {matters_created} matters created, {matters_updated} updated; {bundles_changed} "
            "bundles written, {bundles} in all; {grants} sharing grants made for auto-fill; {births} births "
            "reported into the 卫健委's birth feed".format(**counts)
        )
