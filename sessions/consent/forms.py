from django import forms
from django.utils import timezone

from kap_clinic.kernel.validation import BoundedInput

from ..models import ConsentDocument


class ConsentRecordForm(BoundedInput, forms.Form):
    """Staff record a consent form the patient signed on paper."""

    document = forms.ModelChoiceField(
        label="Consent form (route and version)", queryset=ConsentDocument.objects.none(), empty_label=None
    )
    signed_on = forms.DateField(label="Signed on", widget=forms.DateInput(attrs={"type": "date"}))
    scan = forms.FileField(label="Scan of the signed form (PDF, PNG or JPEG)")
    note = forms.CharField(label="Note (optional)", max_length=200, required=False)

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = documents
        self.fields["document"].label_from_instance = lambda d: (
            f"{d.get_route_display()}: version {d.version} (in force from {d.effective_on:%Y-%m-%d})"
        )
        if not self.is_bound:
            self.fields["signed_on"].initial = timezone.localdate()
