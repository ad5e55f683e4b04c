"""Page forms: they check the shape of input; the registry services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.registry import selectors as registry
from yiwang.registry.models import Sex


class PersonRegisterForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=18, min_length=1)
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=32)
    division = forms.ChoiceField(label=_("Village or community"))
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        help_text=_("Optional: checked against the ID number."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", "—"), *Sex.choices])
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=16, required=False, initial="汉族")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].choices = [("", "—")] + [
            (town.name, [(village.code, f"{village.name} ({village.code})") for village in villages])
            for town, villages in registry.village_choices()
        ]
