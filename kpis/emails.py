"""One small function per e-mail. Templates: ``templates/emails/<name>-subject.txt``, ``-body.txt``, ``-body.html``."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render_email(name, context, to, connection=None):
    """Render ``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html`` into one message.

    The context must already be plain data (lists, strings): templates never query the database.
    """
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to, connection=connection
    )
    message.attach_alternative(html, "text/html")
    return message


def breach_digest_message(digest, connection=None):
    """The weekly breach digest (rule 7) for one recipient; ``digest`` is a ``kpis.digest.Digest``."""
    return render_email("breach_digest", {"digest": digest}, [digest.recipient_email], connection=connection)
