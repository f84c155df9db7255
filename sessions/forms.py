from django import forms


class EnrollmentForm(forms.Form):
    override_justification = forms.CharField(
        label="Why enroll without a current eligible screening?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only when the gate is shut. Your justification is kept with the enrollment and in the audit log.",
    )
