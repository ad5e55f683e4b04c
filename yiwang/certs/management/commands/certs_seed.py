"""`yiwang certs_seed [--no-samples]`: e-seals for the demo departments, the demo certificate
types and a few certificates for the demo citizen and enterprise agent (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yiwang.certs.seed import certs_seed


class Command(BaseCommand):
    help = (
        "Create the e-seals of the departments that issue the demo certificate types (where none "
        "is active), the certificate types (营业执照, 不动产权证书, 出生医学证明, 户口登记, 社保卡 …) and, "
        "unless --no-samples, certificates for the demo citizen and enterprise agent. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-samples", action="store_true", help="seals and types only, no certificates")

    def handle(self, *args, **options) -> None:
        result = certs_seed(samples=not options["no_samples"])
        self.stdout.write(
            f"certs: {len(result['seals_created'])} seals created ({' '.join(result['seals_created']) or '-'}), "
            f"{len(result['types_saved'])} certificate types saved, "
            f"{len(result['issued'])} demo certificates issued ({' '.join(result['issued']) or '-'})"
        )
        if result["types_skipped"]:
            self.stdout.write(
                f"certs: types skipped, their department is missing: {' '.join(result['types_skipped'])}"
            )
