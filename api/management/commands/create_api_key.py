"""``manage.py create_api_key --user <username> | --vendor <vendor id> [--name ...] [--expires-days N]``:
prints the new key on its last line (the only time it is shown)."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.models import ApiKey
from vendors.models import Vendor


class Command(BaseCommand):
    help = "Create an API key for a user (personal) or a vendor; prints the key on the last line."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="username: a personal key acting as this user, with their role")
        who.add_argument("--vendor", type=int, help="vendor id: a key that pushes figures and rosters for it")
        parser.add_argument("--name", default="", help="what the key is for")
        parser.add_argument("--expires-days", type=int, default=None, help="expire after this many days")

    def handle(self, *args, user=None, vendor=None, name="", expires_days=None, **options):
        expires_at = timezone.now() + datetime.timedelta(days=expires_days) if expires_days else None
        if user is not None:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"No user named {user!r}.")
            key, raw = ApiKey.create_key(
                name=name or f"{owner.username} (command line)", user=owner, expires_at=expires_at
            )
        else:
            owner = Vendor.objects.filter(pk=vendor).first()
            if owner is None:
                raise CommandError(f"No vendor with id {vendor}.")
            key, raw = ApiKey.create_key(
                name=name or f"{owner.name} (command line)", vendor=owner, expires_at=expires_at
            )
        self.stdout.write(
            f"Created {key.get_kind_display().lower()} key “{key.name}” ({key.prefix}…). It is shown once, below:"
        )
        self.stdout.write(raw)
