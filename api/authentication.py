"""``Authorization: Bearer <key>``: a personal key authenticates as its user, a vendor key as a
:class:`VendorPrincipal`. An unknown, expired or revoked key is a 401."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiKey, hash_key


class VendorPrincipal:
    """``request.user`` for a vendor key: authenticated, belongs to no person, has no role."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = id = None

    def __init__(self, key):
        self.key = key
        self.vendor_id = key.vendor_id
        self.username = f"vendor-key:{key.prefix}"

    def __str__(self):
        return self.username

    def get_full_name(self):
        return f"API key {self.key.prefix}… ({self.key.name})"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give the key as “Authorization: Bearer <key>”.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key = ApiKey.objects.select_related("user", "vendor").filter(hashed_key=hash_key(raw)).first()
        now = timezone.now()
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if key.expires_at is not None and key.expires_at <= now:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if key.is_vendor_key:
            principal = VendorPrincipal(key)
        else:
            principal = key.user
            if not principal.is_active:
                raise exceptions.AuthenticationFailed("The user of this API key is inactive.")
        key.touch(now)
        return principal, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
