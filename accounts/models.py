from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    receives_all_vendors_digest = models.BooleanField(
        "Receives the all-vendors digest",
        default=False,
        help_text="Get one weekly digest covering every contract, not only the ones this user owns.",
    )

    def __str__(self):
        return f"Profile of {self.user}"
