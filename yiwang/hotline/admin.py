"""The hotline centre's configuration in the admin: time limits per ticket kind, categories,
and routing rules (category × division → department). Every change is audited. Tickets
themselves change only through the loop's services."""

from __future__ import annotations

from django.contrib import admin

from yiwang.cases.admin import ReadOnlyAdmin
from yiwang.core.admin import AuditedAdmin
from yiwang.hotline.models import Category, KindLimit, RoutingRule, Ticket


@admin.register(KindLimit)
class KindLimitAdmin(AuditedAdmin):
    list_display = ("kind", "amount", "unit")


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("code", "name", "is_active")
    search_fields = ("code", "name", "keywords")


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdmin):
    list_display = ("category", "division", "department")
    list_filter = ("category",)
    autocomplete_fields = ("division", "department")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "channel", "division", "category", "received_at", "rating")
    list_filter = ("kind", "channel", "rating")
    exclude = ("caller_phone", "caller_name")  # personal data: read it on the ticket page, audited
