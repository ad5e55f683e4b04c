"""Admin pages for the cases engine: read-only. Cases change only through the services
(transitions, assignment), which keep the timeline, the version and the audit log; the task
queue is shown so an operator can see what is queued, running or failed."""

from __future__ import annotations

from django.contrib import admin

from yiwang.cases.models import Case, CaseEvent, EscalationLog, Task


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("at", "actor_label", "kind", "transition", "from_state", "to_state", "note", "attachment")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "type_code", "state", "department", "sla_status", "state_deadline")
    list_filter = ("type_code", "sla_status", "state")
    search_fields = ("reference", "title")
    inlines = [CaseEventInline]


@admin.register(EscalationLog)
class EscalationLogAdmin(ReadOnlyAdmin):
    list_display = ("case", "rule", "state", "fired_at", "notify_role", "transition")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "state", "run_at", "attempts", "locked_by", "finished_at")
    list_filter = ("state", "name")
