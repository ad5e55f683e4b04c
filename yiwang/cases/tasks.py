"""The cases engine's background tasks: the periodic SLA sweep and notifications."""

from __future__ import annotations

import logging
from datetime import timedelta

from yiwang.cases.taskqueue import periodic_register, task_register

logger = logging.getLogger(__name__)

SLA_SWEEP_EVERY = timedelta(minutes=5)


@task_register("cases.sla_sweep")
def sla_sweep() -> None:
    from yiwang.cases.services import case_sla_sweep

    result = case_sla_sweep()
    logger.info(
        "SLA sweep: %d yellow, %d red, %d escalations",
        len(result.yellow),
        len(result.red),
        len(result.escalated),
    )


@task_register("cases.notify")
def notify(*, notification_id: int) -> None:
    """Deliver a notification. The inbox row is already visible on the workbench; the SMS or
    e-mail channel plugs in here once core has a notification outbox."""
    from yiwang.cases.models import Notification

    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is not None:
        logger.info("notify role %s: %s", notification.role, notification.message)


periodic_register("cases.sla_sweep", every=SLA_SWEEP_EVERY)
