"""Weekly digest at scale: every manager with breaches gets one e-mail (dummy backend, nothing leaves)."""


def run_digest():
    raise NotImplementedError("waiting for kpis.digest")
