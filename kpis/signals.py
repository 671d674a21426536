"""Signals the SLA engine's tasks send, for the layers above it to listen to (the engine imports none
of them): ``breaches_checked`` after a breach check commits, with ``contract_ids`` (None: every
contract) and ``today`` — e.g. ``reports`` rebuilds its summaries of those contracts."""

from django.dispatch import Signal

breaches_checked = Signal()
