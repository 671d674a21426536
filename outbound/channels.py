"""Where a breach alert may be sent: the incoming-webhook URLs of Slack and Microsoft Teams, https only,
on the host each service hands out — so an alert setting cannot be used to POST to any other address."""

from urllib.parse import urlsplit

from .choices import AlertChannel

SLACK_HOSTS = ("hooks.slack.com",)
# Teams: incoming webhooks (<tenant>.webhook.office.com) and Power Automate workflows (….logic.azure.com).
TEAMS_HOST_SUFFIXES = (".webhook.office.com", ".logic.azure.com")


def webhook_url_error(channel, url):
    """Why ``url`` cannot receive ``channel``'s alerts, or None when it can (or the channel is e-mail)."""
    if channel == AlertChannel.EMAIL:
        return None
    if not url:
        return f"Paste the incoming-webhook URL {AlertChannel(channel).label.split(' (')[0]} gave you."
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return "The URL must start with https://."
    if channel == AlertChannel.SLACK and host not in SLACK_HOSTS:
        return "A Slack incoming-webhook URL starts with https://hooks.slack.com/."
    if channel == AlertChannel.TEAMS and not host.endswith(TEAMS_HOST_SUFFIXES):
        return (
            "A Microsoft Teams webhook URL is on <tenant>.webhook.office.com (incoming webhook) or "
            "….logic.azure.com (workflow)."
        )
    if parts.port not in (None, 443) or parts.username or parts.password:
        return "The URL may not name a port or a user."
    return None
