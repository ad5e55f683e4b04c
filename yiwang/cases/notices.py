"""The platform's one notification service (短信/邮件通知): an outbox.

    from yiwang.cases.notices import notice_send
    notice_send(user=applicant, subject="办件已受理", body="…", ref=case.reference,
                key=f"accepted:{case.reference}")

`notice_send` writes a Notice row in the caller's transaction (so a notice exists exactly when
the change it tells about was committed) and queues its delivery on the task runner. Delivery
goes through the backend named by YIWANG_NOTICE_BACKEND:

- `console` (default): the notice is logged (masked like every log line);
- `file`: one JSON line per notice appended to YIWANG_NOTICE_DIR/notices-YYYY-MM-DD.jsonl;
- `module.path:callable`: a city's SMS gateway or mail relay, called with the Notice.

The channel is SMS when the recipient has a phone number, else e-mail; a recipient with
neither gets no notice (None is returned; the change itself is on their status page anyway).
"""

from __future__ import annotations

import datetime
import importlib
import json
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from yiwang.cases.models import Notice, NoticeChannel, NoticeState
from yiwang.cases.taskqueue import task_enqueue, task_register

logger = logging.getLogger(__name__)


def notice_send(
    *,
    subject: str,
    body: str,
    user: Any = None,
    phone: str = "",
    email: str = "",
    ref: str = "",
    key: str | None = None,
    now: datetime.datetime | None = None,
) -> Notice | None:
    """Queue one notice to `user` (their phone, else their e-mail) or to `phone` / `email`
    directly. With `key`, a notice already sent under the same key is not sent again (the
    first one is returned): sweeps and retries may call this freely."""
    phone = (phone or getattr(user, "phone", "") or "").strip()
    email = (email or getattr(user, "email", "") or "").strip()
    if phone:
        channel, address = NoticeChannel.SMS, phone
    elif email:
        channel, address = NoticeChannel.EMAIL, email
    else:
        return None
    if key is not None:
        existing = Notice.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                channel=channel,
                user=user if getattr(user, "pk", None) else None,
                address=address,
                subject=subject[:200],
                body=body,
                ref=ref[:64],
                key=key,
                created_at=now or timezone.now(),
            )
            task_enqueue("cases.notice_deliver", {"notice_id": notice.pk})
    except IntegrityError:
        if key is None:
            raise
        return Notice.objects.filter(key=key).first()
    return notice


def _backend() -> Any:
    name = getattr(settings, "NOTICE_BACKEND", "console") or "console"
    if name == "console":
        return _console
    if name == "file":
        return _file
    module, _sep, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _console(notice: Notice) -> None:
    logger.info("notice %s to %s [%s] %s", notice.channel, notice.address, notice.subject, notice.body)


def _file(notice: Notice) -> None:
    directory = Path(getattr(settings, "NOTICE_DIR", "") or Path(settings.MEDIA_ROOT).parent / "notices")
    directory.mkdir(parents=True, exist_ok=True)
    line = {
        "id": notice.pk,
        "channel": notice.channel,
        "to": notice.address,
        "subject": notice.subject,
        "body": notice.body,
        "ref": notice.ref,
        "at": notice.created_at.isoformat(),
    }
    path = directory / f"notices-{timezone.localdate(notice.created_at).isoformat()}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")


@task_register("cases.notice_deliver")
def notice_deliver(*, notice_id: int) -> None:
    """Deliver one queued notice through the backend; once only (a delivered notice is skipped).
    A backend error marks it failed with the error and re-raises, so the task runner retries."""
    notice = Notice.objects.filter(pk=notice_id, state__in=[NoticeState.QUEUED, NoticeState.FAILED]).first()
    if notice is None:
        return
    try:
        _backend()(notice)
    except Exception as error:
        Notice.objects.filter(pk=notice.pk).update(state=NoticeState.FAILED, error=str(error)[:255])
        raise
    Notice.objects.filter(pk=notice.pk).update(state=NoticeState.SENT, sent_at=timezone.now(), error="")


def notices_for(*, ref: str) -> list[Notice]:
    """The notices sent about one thing (a case reference), oldest first."""
    return list(Notice.objects.filter(ref=ref).order_by("created_at", "id"))
