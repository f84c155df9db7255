from celery import shared_task

from .rems.planning import rems_deadline_warnings


@shared_task
def warn_rems_forms_due() -> int:
    """Beat, every morning: tell staff of REMS monitoring forms near or past their 7-day deadline (once each)."""
    return len(rems_deadline_warnings())
