"""What the audit log keeps of fields that not every reader of the log may see."""


def clinicians_only(value: str) -> str:
    """A field only clinicians read (integration notes): the log shows that it changed, never what it says.

    Admins browse the audit log; the text itself stays in the record, where only clinicians read it.
    """
    return "(withheld: clinicians only)" if value else ""
