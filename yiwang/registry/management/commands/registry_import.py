"""`yiwang registry_import persons --file persons.csv`: all-or-nothing import with a report."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.errors import FieldErrors
from yiwang.registry.imports import person_import, table_read


class Command(BaseCommand):
    help = "Import persons from a .csv or .xlsx file; prints row/column errors and writes nothing if any."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["persons"])
        parser.add_argument("--file", required=True)

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"--file: {path} does not exist")
        try:
            rows = table_read(name=path.name, content=path.read_bytes())
            report = person_import(actor="cli", rows=rows, source=path.name)
        except FieldErrors as error:
            raise CommandError(error.message) from None
        for problem in report.errors:
            self.stderr.write(f"row {problem['row']}, column {problem['column']}: {problem['message']}")
        if not report.ok:
            raise CommandError(f"{len(report.errors)} error(s); nothing was imported")
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
