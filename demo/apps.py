from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set (``seed_demo``, ``date_demo_detections``): above every domain app, imported by none."""

    name = "demo"
    verbose_name = "Demo data"
