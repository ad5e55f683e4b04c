"""`yiwang rules_mirror`: (re)build the typed mirrors of the feeds rules read, and the DuckDB file.

yiwang rules_mirror                          rebuild every existing mirror, build those the
                                             published rules read
yiwang rules_mirror --resource yb.self_pay_claims [--resource …]
yiwang rules_mirror --duckdb [--duckdb-path FILE]    also bring the DuckDB file up to date
yiwang rules_mirror --status                 say which mirrors are in sync
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError


def _published_rule_resources() -> set[str]:
    from yiwang.rules.models import RuleVersion

    codes: set[str] = set()
    for definition in RuleVersion.objects.filter(status="published").values_list("definition", flat=True):
        for source in (definition or {}).get("sources", {}).values():
            if isinstance(source, dict) and isinstance(source.get("resource"), str):
                codes.add(source["resource"])
    return codes


class Command(BaseCommand):
    help = "Build the rules engine's typed mirrors of exchange feeds (and the DuckDB file). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--resource", action="append", default=[], help="a resource code (repeatable)")
        parser.add_argument("--duckdb", action="store_true", help="also refresh the DuckDB mirror file")
        parser.add_argument(
            "--duckdb-path", default=None, help="the DuckDB file (default: VAR_DIR/rules-mirror.duckdb)"
        )
        parser.add_argument("--status", action="store_true", help="only report which mirrors are in sync")

    def handle(self, *args, **options):
        from yiwang.exchange.models import Resource
        from yiwang.rules.mirror import duckdb_refresh, mirror_build, mirror_in_sync, mirror_states

        states = mirror_states()
        codes = set(options["resource"]) or (set(states) | _published_rule_resources())
        resources = {r.code: r for r in Resource.objects.filter(code__in=codes).prefetch_related("fields")}
        unknown = sorted(codes - set(resources))
        if unknown and options["resource"]:
            raise CommandError(f"unknown resource(s): {', '.join(unknown)}")
        for code in sorted(resources):
            resource = resources[code]
            if resource.backing:
                continue
            if options["status"]:
                state = states.get(code)
                self.stdout.write(
                    f"{code}: "
                    + ("no mirror" if state is None else f"{state.rows} rows, batch {state.batch_id}, ")
                    + ("" if state is None else ("in sync" if mirror_in_sync(resource, state) else "behind"))
                )
                continue
            started = time.perf_counter()
            rows = mirror_build(resource)
            self.stdout.write(f"{code}: {rows} rows mirrored in {time.perf_counter() - started:.1f} s")
        if options["duckdb"] and not options["status"]:
            report = duckdb_refresh(sorted(resources), path=options["duckdb_path"])
            for code, entry in sorted(report.items()):
                self.stdout.write(
                    f"duckdb {code}: {entry['mode']}, {entry['rows']} rows in {entry['seconds']:.1f} s"
                )
