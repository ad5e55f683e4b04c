"""Page forms of the hotline: they check the shape of input only. Every rule (required
fields, phone numbers, the address naming a town, lengths) is the services', so the web
form, the operator console, the API and Open311 refuse the same requests with the same words;
the pages put each FieldErrors message beside its field (`form_errors_add`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.core.errors import FieldErrors
from yiwang.core.models import Department
from yiwang.hotline.models import Category, Rating, TicketKind


class TicketFileForm(forms.Form):
    """The citizen's web form (and, with the transcript, the operator's console)."""

    kind = forms.ChoiceField(
        label=pgettext_lazy("hotline form", "What kind of request"),
        choices=TicketKind.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=pgettext_lazy("hotline form", "Your request"),
        required=False,
        strip=False,
        help_text=_("What happened, where exactly, since when, and what you would like done."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    caller_phone = forms.CharField(
        label=pgettext_lazy("hotline form", "Phone number"),
        required=False,
        help_text=_("We call this number back to ask whether you are satisfied."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    caller_name = forms.CharField(
        label=pgettext_lazy("hotline form", "How we should address you"),
        required=False,
        help_text=_("Optional, e.g. 王先生."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    address = forms.CharField(
        label=pgettext_lazy("hotline form", "Where"),
        required=False,
        help_text=_("Name the town or street (镇/乡/街道) and the village or community."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )

    def data_for_intake(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}


class CallForm(TicketFileForm):
    """The operator's console: the same fields, worded for a call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].label = pgettext_lazy("hotline form", "Transcript of the call")
        self.fields["text"].help_text = _("Type or paste what the caller said.")
        self.fields["text"].widget.attrs["rows"] = 8
        self.fields["caller_phone"].label = pgettext_lazy("hotline form", "Caller's number")
        self.fields["caller_phone"].help_text = ""
        self.fields["caller_name"].label = pgettext_lazy("hotline form", "Caller's name")
        self.fields["caller_name"].help_text = ""
        self.fields["address"].label = pgettext_lazy("hotline form", "Address the caller gave")
        self.fields["kind"].label = pgettext_lazy("hotline form", "Kind of request")


class RateForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("Are you satisfied with the reply?"),
        choices=Rating.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What is still wrong?"),
        required=False,
        help_text=_("Needed when you are not satisfied: the department acts on it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def department_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Active departments grouped by the division they serve (city first, then counties)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    departments = Department.objects.filter(is_active=True).select_related("division")
    for department in departments.order_by("division__level", "division__code", "code"):
        groups.setdefault(department.division.name, []).append((department.pk, department.name))
    return list(groups.items())


def category_choices() -> list[tuple[int, str]]:
    return list(Category.objects.filter(is_active=True).values_list("pk", "name"))


def form_errors_add(form: forms.Form, error: FieldErrors) -> None:
    """Put each message of a service's FieldErrors beside its field (or above the form)."""
    for path, message in error.errors:
        field = str(path[0]) if path and str(path[0]) in form.fields else None
        form.add_error(field, message)
        if field is not None:  # screen readers announce the message with the field
            form.fields[field].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": f"{field}-errors"}
            )
