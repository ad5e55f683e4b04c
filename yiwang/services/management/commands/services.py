"""`yiwang services import|measure`: load a matter catalog (事项目录) from CSV or Excel; measure
the catalog search and the auto-fill share on the demo city.

    yiwang services import --file matters.csv [--keep-good-rows] [--default-department ZWFW]
    yiwang services measure [--users citizen,enterprise_agent] [--searches 500]

`measure` fills every matter's form for each user (as the apply page does: exchange reads with
their evidence), and each 一件事 bundle's combined form (once the applicant typed its keys, e.g.
the unit number of the flat bought), and times catalog searches; it ends with the lines
autofill_share=…, autofill_mean_matter_share=…, bundle_autofill_share_<bundle>=…,
bundle_autofill_min_share=…, catalog_search_p50_ms=…, catalog_search_p95_ms=….

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
        parser.add_argument("action", choices=["import", "measure"])
        parser.add_argument("--file", default="", help="import: .csv (UTF-8 or GB18030) or .xlsx")
        parser.add_argument(
            "--users", default="citizen,enterprise_agent", help="measure: usernames, comma-separated"
        )
        parser.add_argument("--searches", type=int, default=500, help="measure: number of timed searches")
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
        if options["action"] == "measure":
            self._measure(options)
            return
        if not options["file"]:
            raise CommandError("import needs --file")
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

    def _measure(self, options) -> None:
        import random
        import statistics
        import time

        from yiwang.core.models import User
        from yiwang.services.bundles import bundle_autofill_measure
        from yiwang.services.models import Matter
        from yiwang.services.search import matter_search_ids
        from yiwang.services.selectors import matter_search
        from yiwang.services.services import autofill_measure

        filled = fields = 0
        shares: list[float] = []
        bundle_shares: dict[str, float] = {}
        for username in [name.strip() for name in options["users"].split(",") if name.strip()]:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
            started = time.perf_counter()
            result = autofill_measure(user=user)
            self.stdout.write(
                f"{username}: {result['matters']} matters, {result['filled']}/{result['fields']} fields "
                f"filled ({result['share']:.1%}), mean per matter {result['mean_matter_share']:.1%}, "
                f"{result['matters_at_least_70']} matters at ≥ 70% ({time.perf_counter() - started:.1f} s)"
            )
            filled += result["filled"]
            fields += result["fields"]
            shares += [result["mean_matter_share"]] * result["matters"]
            for row in bundle_autofill_measure(user=user):
                keys = f" (typed: {', '.join(row['keys'])})" if row["keys"] else ""
                self.stdout.write(
                    f"{username}: bundle {row['code']} {row['name']}: {row['filled']}/{row['fields']} "
                    f"fields filled ({row['share']:.1%}){keys}"
                )
                bundle_shares[row["code"]] = row["share"]
        names = list(Matter.objects.values_list("name", "name_initials"))
        rng = random.Random(1508)
        queries = []
        for _ in range(options["searches"]):
            name, initials = rng.choice(names)
            start = rng.randrange(max(len(name) - 3, 1))
            queries.append(rng.choice([name[start : start + 3], initials[:4], initials[:5], name[:2]]))
        matter_search_ids(query="", limit=1)  # load the index once
        timings = []
        for query in queries:
            started = time.perf_counter()
            matter_search(query=query, limit=20)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        self.stdout.write(
            f"catalog: {len(names)} matters, {len(queries)} searches (name parts and pinyin initials)"
        )
        self.stdout.write(f"autofill_share={filled / fields if fields else 0:.4f}")
        self.stdout.write(f"autofill_mean_matter_share={sum(shares) / len(shares) if shares else 0:.4f}")
        for code, share in sorted(bundle_shares.items()):
            self.stdout.write(f"bundle_autofill_share_{code.replace('-', '_')}={share:.4f}")
        if bundle_shares:
            self.stdout.write(f"bundle_autofill_min_share={min(bundle_shares.values()):.4f}")
        self.stdout.write(f"catalog_search_p50_ms={statistics.median(timings):.2f}")
        self.stdout.write(f"catalog_search_p95_ms={p95:.2f}")
