import time

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import User
from .roles import group_name

AUTH_STARTED_AT = "auth_started_at"
LAST_SEEN_AT = "last_seen_at"


@receiver(post_save, sender=User)
def keep_role_group(sender, instance: User, raw=False, **kwargs):
    """A user belongs to exactly the group of their role."""
    if raw:
        return
    group, _ = Group.objects.get_or_create(name=group_name(instance.role))
    if list(instance.groups.values_list("pk", flat=True)) != [group.pk]:
        instance.groups.set([group])


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    now = time.time()
    request.session[AUTH_STARTED_AT] = now
    request.session[LAST_SEEN_AT] = now
