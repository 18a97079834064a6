from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from defensa.committees.models import Committee
from defensa.trees.actions import captain_choices
from defensa.trees.models import MESSAGE_MAX, Tree


class _Captains(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name or obj.email


class TreeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    captains = _Captains(
        label=_("Captains"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("About one captain for every ten people. Everyone else is placed for you."),
    )

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["captains"].queryset = captain_choices(committee).order_by("display_name")


class CaptainsForm(TreeForm):
    def __init__(self, *args: Any, tree: Tree, **kwargs: Any) -> None:
        super().__init__(*args, committee=tree.committee, **kwargs)
        del self.fields["name"]


class CascadeForm(forms.Form):
    message = forms.CharField(
        label=_("Message to pass on"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_drill = forms.BooleanField(
        label=_("This is a drill (practice)"), required=False, initial=True
    )
    text_all = forms.BooleanField(
        label=_("Also text everyone now, on their captains' behalf"), required=False
    )


class MoveForm(forms.Form):
    leaf = forms.IntegerField(widget=forms.HiddenInput)
    group = forms.IntegerField(label=_("Group"), min_value=1, max_value=100_000)


class CallForm(forms.Form):
    reached = forms.BooleanField(required=False)
