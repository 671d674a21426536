"""``/accounts/keys/``: a manager's own personal API keys — create one (shown once, on the page that
answers the form) and revoke one."""

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View

from . import permissions
from .models import ApiKey


class NewKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. “reporting script”.")
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="Leave empty for a key that does not expire."
    )


class PersonalKeysView(View):
    template_name = "api/personal_keys.html"

    def dispatch(self, request, *args, **kwargs):
        if not permissions.may_hold_personal_key(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form, new_key=None, status=200):
        keys = ApiKey.objects.filter(user=self.request.user, kind=ApiKey.Kind.PERSONAL)
        context = {"form": form, "keys": keys, "new_key": new_key}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        return self.render_page(NewKeyForm())

    def post(self, request):
        if "revoke" in request.POST:
            key = get_object_or_404(ApiKey, pk=request.POST["revoke"], user=request.user, kind=ApiKey.Kind.PERSONAL)
            key.revoke()
            return redirect("api_keys")
        form = NewKeyForm(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=400)
        days = form.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
        _key, raw = ApiKey.create_key(
            name=form.cleaned_data["name"], user=request.user, expires_at=expires_at, created_by=request.user
        )
        # Shown on this response only (not stored in a message or the session).
        return self.render_page(NewKeyForm(), new_key=raw)
