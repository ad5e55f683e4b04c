"""The services API for tolerated gaps (容缺) and pledges (告知承诺) (mounted under /api/services
by api.py).

- `GET  /applications/{reference}/gaps`: the caller's own application's gaps;
- `POST /applications/{reference}/gaps/{gap_id}/supply` (multipart `file`): the applicant
  supplies a material accepted missing (checked by content and size like any upload);
- `GET  /gaps`: a department handler's open gaps and pledges to verify, due soonest first;
- `POST /gaps/{gap_id}/verify` `{"true": bool, "note": str}`: a handler verifies a pledge (false
  needs the note and revokes the application).

Errors in the platform's one shape: 422 naming the field (`file`, `note`), 404 for what is not
the caller's, 409 for a gap no longer open.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from ninja import Field, File, Router, Schema, UploadedFile

from yiwang.services import gaps
from yiwang.services.models import ApplicationGap

router = Router(tags=["services"])

MAX_LIMIT = 200


class GapOut(Schema):
    id: int
    reference: str
    material: int
    material_name: str
    kind: str
    status: str
    status_label: str
    live: bool
    due_on: datetime.date
    overdue: bool
    pledge_text: str
    note: str
    closed_at: datetime.datetime | None


class VerifyIn(Schema):
    true: bool = Field(..., description="true: the pledge holds; false: it was found false (note needed)")
    note: str = ""


def _gap(gap: ApplicationGap, today: datetime.date) -> dict:
    live = gaps.gap_is_live(gap)
    return {
        "id": gap.pk,
        "reference": gap.application.case.reference,
        "material": gap.material_id,
        "material_name": gap.material.name,
        "kind": gap.kind,
        "status": gap.status,
        "status_label": str(gap.get_status_display()),
        "live": live,
        "due_on": gap.due_on,
        "overdue": live and gap.due_on < today,
        "pledge_text": gap.pledge_text,
        "note": gap.note,
        "closed_at": gap.closed_at,
    }


@router.get("/applications/{reference}/gaps", response=list[GapOut], summary="Materials accepted missing")
def gap_list_own(request, reference: str):
    from yiwang.services.selectors import application_for_applicant

    application = application_for_applicant(reference=reference, user=request.auth)
    today = timezone.localdate()
    return [_gap(gap, today) for gap in gaps.gaps_of(application=application)]


@router.post(
    "/applications/{reference}/gaps/{gap_id}/supply",
    response=GapOut,
    summary="Supply a material accepted missing",
)
def gap_supply(request, reference: str, gap_id: int, file: File[UploadedFile] = None):
    gap = gaps.gap_for_applicant(reference=reference, gap_id=gap_id, user=request.auth)
    gap = gaps.gap_supply(gap=gap, actor=request.auth, upload=file)
    return _gap(gap, timezone.localdate())


@router.get("/gaps", response=list[GapOut], summary="Materials awaited and pledges to verify (department)")
def gap_list_department(request, limit: int = 50, offset: int = 0):
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(offset, 0)
    today = timezone.localdate()
    rows = gaps.gaps_to_watch(user=request.auth)[offset : offset + limit]
    return [_gap(gap, today) for gap in rows]


@router.post("/gaps/{gap_id}/verify", response=GapOut, summary="Verify a pledge (department)")
def gap_verify(request, gap_id: int, payload: VerifyIn):
    gap = gaps.gap_for_staff(gap_id=gap_id, user=request.auth)
    gap = gaps.gap_verify(gap=gap, actor=request.auth, true=payload.true, note=payload.note)
    return _gap(gap, timezone.localdate())
