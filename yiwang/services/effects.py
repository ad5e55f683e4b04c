"""What follows when an application's case moves, whoever moved it (a handler on the page or
through /api/cases, the rules engine for 秒批, a sweep revoking it): the certificate is issued on
approval, a bundle releases its next steps or ends, the applicant is told.

Each of those lives in its own module and registers here with `@effect_register`; the engine
calls `application_after_transition` inside the transition's transaction (the case type's
`after_transition`), so a move and its effects are written together or not at all. An effect
may raise a DomainError to refuse the move."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Effect = Callable[..., None]

EFFECTS: list[Effect] = []


def effect_register(function: Effect) -> Effect:
    """Decorator: call `function(application=, case=, transition=, actor=, note=)` after every
    transition of an application case, in registration order."""
    if function not in EFFECTS:
        EFFECTS.append(function)
    return function


def application_after_transition(*, case: Any, transition: str, actor: Any, note: str) -> None:
    from yiwang.services.models import Application

    application = Application.objects.filter(pk=case.pk).select_related("matter", "applicant").first()
    if application is None:  # the case is being opened with its application in the same transaction
        return
    application.case = case
    for effect in EFFECTS:
        effect(application=application, case=case, transition=transition, actor=actor, note=note)
