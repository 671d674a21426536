"""Form helpers: Bootstrap classes on every widget, optional ``user`` for role-limited choices."""

from django import forms


class BootstrapMixin:
    accepts_user = True

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def is_valid(self):
        valid = super().is_valid()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
                widget.attrs["aria-invalid"] = "true"
        return valid


class BootstrapModelForm(BootstrapMixin, forms.ModelForm):
    def _post_clean(self):
        """Show a unique-constraint violation next to its field instead of at the top of the form."""
        super()._post_clean()
        from django.core.exceptions import NON_FIELD_ERRORS
        from django.db.models import UniqueConstraint

        general = self._errors.get(NON_FIELD_ERRORS)
        if not general:
            return
        for constraint in self._meta.model._meta.constraints:
            if not isinstance(constraint, UniqueConstraint) or not constraint.fields:
                continue
            message = str(constraint.violation_error_message)
            in_form = [name for name in constraint.fields if name in self.fields]
            if in_form and message in general:
                general.data = [e for e in general.data if message not in getattr(e, "messages", [e])]
                if not general.data:
                    del self._errors[NON_FIELD_ERRORS]
                self.add_error(in_form[-1], message)
                general = self._errors.get(NON_FIELD_ERRORS)
                if not general:
                    return


class BootstrapForm(BootstrapMixin, forms.Form):
    pass


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):  # noqa: A002
        super().__init__(attrs=attrs, format=format)
