"""`yiwang services import --file F`: load a matter catalog (事项目录) from CSV or Excel.

    yiwang services import --file matters.csv [--keep-good-rows] [--default-department ZWFW]

Prints the report (rows, created, updated, unchanged, rejected) and each problem with its row
and column; exits with an error if nothing could be written. Running it twice on the same file
changes nothing the second time.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.errors import FieldErrors


class Command(BaseCommand):
    help = "One-network services: `services import --file F` loads a matter catalog from CSV or Excel."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import"])
        parser.add_argument("--file", required=True, help=".csv (UTF-8 or GB18030) or .xlsx")
        parser.add_argument(
            "--keep-good-rows",
            action="store_true",
            help="write the good rows even if some rows are bad (default: all or nothing)",
        )
        parser.add_argument(
            "--default-department",
            default="",
            metavar="CODE",
            help="department code for rows whose department matches none of the city's (reported)",
        )

    def handle(self, *args, **options) -> None:
        from yiwang.core.models import Department
        from yiwang.services.imports import ALL_OR_NOTHING, KEEP_GOOD_ROWS, matters_import

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        default = None
        if options["default_department"]:
            default = Department.objects.filter(code=options["default_department"]).first()
            if default is None:
                raise CommandError(f"no department with code {options['default_department']!r}")
        try:
            report = matters_import(
                actor="system:services-import",
                name=path.name,
                content=path.read_bytes(),
                mode=KEEP_GOOD_ROWS if options["keep_good_rows"] else ALL_OR_NOTHING,
                default_department=default,
            )
        except FieldErrors as error:
            raise CommandError("; ".join(message for _path, message in error.errors)) from error
        for problem in report.errors:
            self.stdout.write(f"error row {problem['row']} column {problem['column']}: {problem['message']}")
        for warning in report.warnings:
            self.stdout.write(
                f"warning row {warning['row']} column {warning['column']}: {warning['message']}"
            )
        self.stdout.write(
            f"rows={report.rows} created={report.created} updated={report.updated} "
            f"unchanged={report.unchanged} rejected={report.rejected} errors={len(report.errors)} "
            f"warnings={len(report.warnings)} applied={report.applied}"
        )
        if not report.applied:
            raise CommandError("nothing was written: fix the errors above or use --keep-good-rows")
