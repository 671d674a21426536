from django.db import models


class Heartbeat(models.Model):
    """When something last happened: one row per name (``breach_check``, ``beat``), overwritten each time."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
