"""The signed document: the canonical payload of a certificate and its machine-readable form.

The payload is stable JSON (keys sorted, no spaces, UTF-8, no escaping of Chinese), so the
same certificate always gives the same bytes, and whoever holds the JSON can check the SM3
digest and the SM2 signature with the seal's public key, offline."""

from __future__ import annotations

import datetime
import json
from typing import Any

from yiwang.certs.models import Certificate

FORMAT = "yiwang-certificate/1"


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def timestamp(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload_build(
    *,
    number: str,
    type_code: str,
    type_name: str,
    holder_kind: str,
    holder: str,
    holder_name: str,
    fields: dict[str, Any],
    department_code: str,
    department_name: str,
    seal_key_id: str,
    issued_at: datetime.datetime,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "number": number,
        "type": {"code": type_code, "name": type_name},
        "holder": {"kind": holder_kind, "id": holder, "name": holder_name},
        "fields": fields,
        "issuer": {"department": department_code, "name": department_name, "seal": seal_key_id},
        "issued_at": timestamp(issued_at),
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat() if valid_to else None,
    }


def row_values(certificate: Certificate) -> dict[str, Any]:
    """What the certificate's own columns say, at the payload's paths (names of the type and the
    department are left out: they may be renamed after issue without touching a certificate)."""
    return {
        "number": certificate.number,
        "type.code": certificate.certificate_type.code,
        "holder.kind": certificate.holder_kind,
        "holder.id": certificate.holder,
        "holder.name": certificate.holder_name,
        **{f"fields.{key}": value for key, value in (certificate.fields or {}).items()},
        "issuer.department": certificate.department.code,
        "issuer.seal": certificate.seal.key_id,
        "issued_at": timestamp(certificate.issued_at),
        "valid_from": certificate.valid_from.isoformat(),
        "valid_to": certificate.valid_to.isoformat() if certificate.valid_to else None,
    }


def payload_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The same paths read from a payload."""

    def part(name: str) -> dict:
        value = payload.get(name)
        return value if isinstance(value, dict) else {}

    fields = part("fields")
    return {
        "number": payload.get("number"),
        "type.code": part("type").get("code"),
        "holder.kind": part("holder").get("kind"),
        "holder.id": part("holder").get("id"),
        "holder.name": part("holder").get("name"),
        **{f"fields.{key}": value for key, value in fields.items()},
        "issuer.department": part("issuer").get("department"),
        "issuer.seal": part("issuer").get("seal"),
        "issued_at": payload.get("issued_at"),
        "valid_from": payload.get("valid_from"),
        "valid_to": payload.get("valid_to"),
    }


def paths_differing(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """The paths whose values differ between two value maps (a path missing on one side
    differs), in a stable order."""
    return sorted(
        path for path in set(left) | set(right) if left.get(path, _MISSING) != right.get(path, _MISSING)
    )


_MISSING = object()


def document_of(certificate: Certificate) -> dict[str, Any]:
    """The machine-readable signed certificate a holder downloads and shows to anyone."""
    return {
        "format": FORMAT,
        "payload": certificate.payload,
        "digest": certificate.digest,
        "signature": certificate.signature,
        "algorithm": "SM3withSM2",
        "seal": {
            "key_id": certificate.seal.key_id,
            "public_key": certificate.seal.public_key,
            "department": certificate.department.code,
        },
    }
