"""Summary tables behind the reports and the dashboard: per-contract and per-vendor monthly figures,
and the latest figure / missing report of each SLA.

Derived data, rewritten whole by every refresh: no database-level foreign keys (their checks would run
for every row at commit); Django's ``on_delete`` still removes a deleted contract's rows. Written only
by ``reports.summaries.refresh_summaries`` (set-based SQL, PostgreSQL and SQLite), which
runs after every breach check and hourly from beat; never edited by hand. Every figure keeps the
meaning of the live query it replaces (``reports.queries``); ``SummaryState`` says when the tables
were last rebuilt, and pages show it.
"""

from django.db import models


class MonthlyFigures(models.Model):
    """The figures of one month (``month``: its first day). Months of measurements and breaches are
    those of their ``period_end``; staff figures (rule 6) exist for the refresh window's months only."""

    month = models.DateField()
    # measurements (rule 1 against the SLA's expected level)
    measured = models.IntegerField(default=0)
    met = models.IntegerField(default=0)
    # ... of which the period had not ended yet on the refresh day (reported early)
    measured_pending = models.IntegerField(default=0)
    met_pending = models.IntegerField(default=0)
    # breaches, not withdrawn
    breaches = models.IntegerField(default=0)
    minor = models.IntegerField(default=0, help_text="Minor performance breaches.")
    major = models.IntegerField(default=0, help_text="Major performance breaches.")
    missing_reports = models.IntegerField(default=0)
    credit_all = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="Waived included.")
    earned_back_all = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="Waived included.")
    # breaches neither withdrawn nor waived (credit owed)
    credit = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    earned_back = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    credited_breaches = models.IntegerField(default=0, help_text="With a service credit above zero.")
    major_owed = models.IntegerField(default=0, help_text="Major breaches of any kind.")
    # open or acknowledged breaches
    open_breaches = models.IntegerField(default=0)
    open_missing_reports = models.IntegerField(default=0)
    # staff (rule 6): headcount on the month's first and last day, departures in the month
    start_headcount = models.IntegerField(default=0)
    end_headcount = models.IntegerField(default=0)
    departures = models.IntegerField(default=0)
    headcount_today = models.IntegerField(
        default=0, help_text="Staff on the roster on the refresh day (on the row of that day's month only)."
    )

    class Meta:
        abstract = True


class ContractMonth(MonthlyFigures):
    # The (contract, month) primary key is its main index: every row is rewritten by each refresh.
    pk = models.CompositePrimaryKey("contract", "month")
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = [
            # the service-credit report's newest contract-months that owe (a small share of the rows)
            models.Index(
                fields=["month"],
                name="contract_month_owing_idx",
                condition=models.Q(credit__gt=0) | models.Q(earned_back__gt=0),
            ),
            # the roster on the refresh day of every contract (the sourcing mix): the rows of one month only
            models.Index(fields=["month"], name="contract_month_roster_idx", condition=models.Q(headcount_today__gt=0)),
        ]

    def __str__(self):
        return f"{self.contract_id} {self.month:%Y-%m}"


class VendorMonth(MonthlyFigures):
    """``ContractMonth`` added up per vendor and contract currency (money is never added across
    currencies). ``credit_cap`` and ``credit_contracts``: the caps and the number of the contracts that owe or
    earned back a credit that month."""

    pk = models.CompositePrimaryKey("vendor", "month", "currency")
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    currency = models.CharField(max_length=3)
    credit_cap = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    credit_contracts = models.IntegerField(default=0, help_text="Contracts that owe or earned back a credit.")

    class Meta:
        indexes = [
            # the reports read a few months of every vendor (the scorecard: 2 of ~37 months' rows)
            models.Index(fields=["month"], name="vendor_month_month_idx"),
        ]

    def __str__(self):
        return f"{self.vendor_id} {self.month:%Y-%m} {self.currency}"


class PortfolioMonth(MonthlyFigures):
    """``VendorMonth`` added up per contract currency: the whole portfolio's month (the dashboard's "all
    contracts" figures read a few dozen rows instead of every vendor-month). Always the sum of ``VendorMonth``:
    a whole refresh rebuilds it, a partial one subtracts its vendors' old rows and adds their new ones."""

    pk = models.CompositePrimaryKey("month", "currency")
    currency = models.CharField(max_length=3)

    def __str__(self):
        return f"{self.month:%Y-%m} {self.currency}"


class SLASummary(models.Model):
    """Per SLA: its latest figure, and the report missing for its last completed period as of the
    refresh day (``missing_*`` empty when it is in, or not due)."""

    sla = models.OneToOneField(
        "kpis.SLA", on_delete=models.CASCADE, primary_key=True, related_name="summary", db_constraint=False
    )
    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    latest_period_start = models.DateField(null=True)
    latest_value = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    latest_outcome = models.CharField(
        max_length=10, null=True, help_text="Rule 1 for the latest figure against the SLA's levels: met, minor, major."
    )
    missing_period_start = models.DateField(null=True)
    missing_period_end = models.DateField(null=True)
    missing_due_on = models.DateField(null=True)

    class Meta:
        verbose_name = "SLA summary"
        verbose_name_plural = "SLA summaries"
        indexes = [
            models.Index(
                fields=["latest_outcome"],
                name="sla_summary_at_risk_idx",
                condition=models.Q(latest_outcome__in=["minor", "major"]),
            ),
            models.Index(
                fields=["missing_due_on"],
                name="sla_summary_missing_idx",
                condition=models.Q(missing_due_on__isnull=False),
            ),
        ]

    def __str__(self):
        return f"SLA {self.sla_id}"


class SummaryState(models.Model):
    """One row: when the summary tables were last rebuilt whole, and for which day; ``updated_at``: when
    any of their rows was last rebuilt (a breach check's contracts are rebuilt right after it)."""

    refreshed_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)
    today = models.DateField(help_text="The day the refresh took as today (missing reports, pending figures).")
    window_start = models.DateField(help_text="First month with staff figures.")
    window_end = models.DateField(help_text="Last month with staff figures.")
    seconds = models.FloatField(default=0)

    def __str__(self):
        return f"Summaries as of {self.as_of:%Y-%m-%d %H:%M}"

    @property
    def as_of(self):
        """When the figures were last brought up to date: every change that decides what is owed is
        checked within seconds and its contracts' rows rebuilt, so the tables are as of the latest
        rebuild, whole or partial."""
        return max(self.refreshed_at, self.updated_at or self.refreshed_at)
