"""The demo data set loaded by ``manage.py seed_demo``: vendors, contracts, SLAs, KPI figures and staff.

Everything here is fictional. The data is built in two steps:

1. ``build_plan(today)`` — plain Python, no database: every vendor, contract, SLA, figure and
   roster entry, drawn from one ``random.Random`` per contract (seeded with the contract
   reference), so the same ``today`` always gives the same data.
2. ``load_demo_data(today)`` — writes the plan in one transaction, keyed by natural keys
   (username, vendor name, centre name, contract reference, (contract, KPI),
   (SLA, period_start), (contract, employee_ref)). Rows that already exist are left as they
   are, so running it again creates nothing and never overwrites what someone edited.

No ``Breach`` rows are written: ``manage.py run_sla_checks`` derives them from the figures.
The figures are drawn so the rules produce a realistic mix: mostly met, some minor and a few
major breaches, and a handful of recent periods deliberately left without a report.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import Profile
from contracts.choices import ContractStatus, EngagementModel, LeaveReason, ServiceType
from contracts.models import Contract, ExchangeRate, ReplacementObligation, StaffMember
from governance import demo as governance_demo
from kpis import periods
from kpis.attrition import attrition_percent as rule6_attrition_percent
from kpis.choices import Direction, Frequency, MeasurementSource
from kpis.models import KPI, SLA, Measurement
from vendors.models import Certification, DeliveryCenter, Vendor

ONE_DAY = datetime.timedelta(days=1)
HISTORY_MONTHS = 15  # months of KPI history before the last complete month (plus that month)

# --- users -----------------------------------------------------------------------------------
# Demo only: these passwords are printed by the command and by scripts/run_demo.sh.
DEMO_USERS = [
    # username, password, first, last, e-mail, role, all-vendors digest
    ("admin", "demo-admin-2026", "Alex", "Morgan", "admin@sla-demo.example.com", "admin", True),
    ("manager", "demo-manager-2026", "Dana", "Whitfield", "dana.whitfield@sla-demo.example.com", "manager", False),
    ("priya", "demo-priya-2026", "Priya", "Raman", "priya.raman@sla-demo.example.com", "manager", False),
    ("viewer", "demo-viewer-2026", "Sam", "Okafor", "sam.okafor@sla-demo.example.com", "viewer", False),
]

# --- vendors and delivery centres -----------------------------------------------------------
# fmt: off
# name, HQ country, status, risk tier, certifications, contact, notes, [centres]
# centre: name, city, country, IANA time zone, seats, 24x7
VENDORS = [
    ("Bayani Contact Solutions", "PH", "active", "low", ["iso-27001", "pci-dss", "copc", "soc-2"],
     ("Maricel Dela Cruz", "maricel.delacruz@bayanicontact.example.com"),
     "Strong voice operation; COPC certified since 2019.",
     [("Makati Hub", "Makati City", "PH", "Asia/Manila", 1200, True),
      ("Cebu IT Park", "Cebu City", "PH", "Asia/Manila", 650, True)]),
    ("Lakshmi Data Services", "IN", "active", "medium", ["iso-27001", "iso-9001", "soc-2", "hipaa"],
     ("Anand Krishnan", "anand.krishnan@lakshmidata.example.com"),
     "Healthcare and finance back office.",
     [("Pune Hinjewadi", "Pune", "IN", "Asia/Kolkata", 900, False),
      ("Chennai OMR", "Chennai", "IN", "Asia/Kolkata", 700, True)]),
    ("Vistara Knowledge Partners", "IN", "active", "low", ["iso-27001", "gdpr"],
     ("Meera Iyer", "meera.iyer@vistarakp.example.com"),
     "Research, analytics and financial modelling (KPO).",
     [("Bengaluru Research Centre", "Bengaluru", "IN", "Asia/Kolkata", 300, False)]),
    ("Sierra Madre Customer Care", "MX", "active", "medium", ["iso-27001", "pci-dss"],
     ("Alejandra Garza", "alejandra.garza@sierramadrecc.example.com"),
     "Bilingual (EN/ES) nearshore support, same time zones as our US teams.",
     [("Monterrey Valle Oriente", "Monterrey", "MX", "America/Monterrey", 800, True),
      ("Guadalajara Centro", "Guadalajara", "MX", "America/Mexico_City", 400, False)]),
    ("Cafetal BPO Group", "CO", "active", "high", ["iso-27001", "copc"],
     ("Juan Camilo Restrepo", "jc.restrepo@cafetalbpo.example.com"),
     "Service level slipping since Q2; improvement plan agreed. Late with monthly reports.",
     [("Medellín El Poblado", "Medellín", "CO", "America/Bogota", 550, True),
      ("Bogotá Chapinero", "Bogotá", "CO", "America/Bogota", 300, False)]),
    ("Wisła Shared Services", "PL", "active", "low", ["iso-27001", "iso-9001", "gdpr"],
     ("Katarzyna Nowak", "katarzyna.nowak@wislass.example.com"),
     "Finance & accounting and analytics for EMEA and US entities.",
     [("Kraków Zabłocie", "Kraków", "PL", "Europe/Warsaw", 450, False),
      ("Wrocław Stare Miasto", "Wrocław", "PL", "Europe/Warsaw", 250, False)]),
    ("Protea Business Services", "ZA", "active", "medium", ["pci-dss", "gdpr", "copc"],
     ("Thandiwe Nkosi", "thandiwe.nkosi@proteabs.example.com"),
     "English-language voice and claims processing.",
     [("Cape Town Century City", "Cape Town", "ZA", "Africa/Johannesburg", 600, True),
      ("Durban Umhlanga", "Durban", "ZA", "Africa/Johannesburg", 350, False)]),
    ("Prairie Point Support", "US", "active", "low", ["soc-2", "hipaa", "pci-dss"],
     ("Karen Mitchell", "karen.mitchell@prairiepoint.example.com"),
     "Onshore healthcare member services.",
     [("Tulsa Operations Center", "Tulsa", "US", "America/Chicago", 500, True),
      ("Boise Service Center", "Boise", "US", "America/Boise", 220, False)]),
    ("Cumberland Document Review", "US", "active", "low", ["soc-2", "iso-27001"],
     ("Robert Haynes", "rhaynes@cumberlanddr.example.com"),
     "Onshore e-discovery and document review (LPO).",
     [("Nashville Review Center", "Nashville", "US", "America/Chicago", 180, False)]),
    ("Maple Ridge Contact Centres", "CA", "active", "low", ["soc-2", "pci-dss", "iso-22301"],
     ("Sophie Tremblay", "sophie.tremblay@mapleridgecc.example.com"),
     "French and English customer care, nearshore.",
     [("Moncton Centre", "Moncton", "CA", "America/Moncton", 420, True),
      ("Winnipeg Centre", "Winnipeg", "CA", "America/Winnipeg", 260, False)]),
    ("Shannonside Legal Services", "IE", "active", "medium", ["iso-27001", "gdpr"],
     ("Ciarán O'Sullivan", "ciaran.osullivan@shannonside.example.com"),
     "Contract drafting, legal research and compliance reviews (LPO).",
     [("Limerick Legal Hub", "Limerick", "IE", "Europe/Dublin", 150, False)]),
    ("Nile Delta Outsourcing", "EG", "offboarded", "high", ["iso-27001", "copc"],
     ("Ahmed Hassan", "ahmed.hassan@niledelta.example.com"),
     "Contract terminated for persistent service-level failures; exit completed.",
     [("Cairo Smart Village", "Giza", "EG", "Africa/Cairo", 700, True)]),
    ("Kestrel Analytics Kenya", "KE", "prospect", "medium", ["iso-27001"],
     ("Wanjiru Kamau", "wanjiru.kamau@kestrelanalytics.example.com"),
     "Shortlisted for the 2027 analytics RFP.",
     [("Nairobi Westlands", "Nairobi", "KE", "Africa/Nairobi", 120, False)]),
]

# --- contracts -------------------------------------------------------------------------------
# SLA spec: KPI code, expected, minimum, frequency, credit allocation %.
M, W, Q = Frequency.MONTHLY, Frequency.WEEKLY, Frequency.QUARTERLY
FO, BO, KPO, LPO = ServiceType.FRONT_OFFICE, ServiceType.BACK_OFFICE, ServiceType.KPO, ServiceType.LPO
BPO, BPM, BPS = EngagementModel.BPO, EngagementModel.BPM, EngagementModel.BPS


@dataclass
class ContractSpec:
    reference: str
    vendor: str
    centre: str
    title: str
    service_type: str
    service_line: str
    engagement_model: str
    owner: str
    currency: str
    monthly_fee: str
    baseline: str
    at_risk: str
    headcount: int
    slas: list
    started_months_ago: int
    ends_in_days: int | None = None  # contract end, months rounded to month end; None: special
    notice_days: int = 90
    replacement_days: int = 30
    auto_renew: bool = False
    status: str = ContractStatus.ACTIVE
    quality: str = "good"  # good / fair / poor: how often figures miss the SLA
    reporting_grace_days: int = 5
    missing_report_is_breach: bool = True
    earn_back_periods: int = 0
    monthly_leave_rate: float = 0.03
    missing: list = field(default_factory=list)  # (KPI code or "*", periods ago) left without figures
    scripted_departures: bool = False
    expiring_soon_days: int | None = None  # notice deadline this many days from today
    terminated_months_ago: int | None = None
    draft_starts_in_months: int | None = None
    notes: str = ""


CONTRACTS = [
    ContractSpec(
        "CX-2024-003", "Bayani Contact Solutions", "Makati Hub", "Consumer banking voice support",
        FO, "Voice support", BPM, "manager", "USD", "182000", "410000", "12", 40,
        [("service_level", "80", "75", M, "30"), ("average_speed_of_answer", "30", "45", M, "15"),
         ("abandonment_rate", "5", "8", M, "15"), ("csat", "85", "80", M, "20"),
         ("quality_score", "90", "85", M, "10"), ("attrition_rate", "5", "8", M, "10")],
        started_months_ago=32, ends_in_days=420, earn_back_periods=2, monthly_leave_rate=0.035,
        scripted_departures=True, notes="Earn-back: a major breach is forgiven after two clean months.",
    ),
    ContractSpec(
        "CX-2025-011", "Bayani Contact Solutions", "Cebu IT Park", "Chat and e-mail support",
        FO, "Non-voice support", BPO, "manager", "USD", "64000", "150000", "10", 18,
        [("email_response_time", "24", "36", W, "25"), ("first_contact_resolution", "72", "65", M, "25"),
         ("csat", "85", "78", M, "30"), ("schedule_adherence", "90", "85", W, "20")],
        started_months_ago=11, ends_in_days=600, missing=[("email_response_time", 2)],
    ),
    ContractSpec(
        "BO-2024-007", "Lakshmi Data Services", "Pune Hinjewadi", "Medical claims processing",
        BO, "Claims processing", BPM, "manager", "USD", "96000", "240000", "10", 30,
        [("accuracy", "99", "98", M, "35"), ("turnaround_time", "48", "72", M, "25"),
         ("backlog", "150", "300", M, "15"), ("on_time_delivery", "97", "94", M, "15"),
         ("attrition_rate", "3", "5", M, "10")],
        started_months_ago=26, ends_in_days=540, quality="fair", replacement_days=45,
    ),
    ContractSpec(
        "BO-2025-002", "Lakshmi Data Services", "Chennai OMR", "Accounts payable and payroll",
        BO, "Payroll and accounting", BPS, "manager", "USD", "58000", "135000", "8", 16,
        [("accuracy", "99.5", "99", M, "40"), ("on_time_delivery", "98", "95", M, "40"),
         ("availability", "99.5", "99", M, "20")],
        started_months_ago=22, expiring_soon_days=18, notice_days=90, auto_renew=False,
        notes="Renewal decision due: re-tender or renew with automation scope.",
    ),
    ContractSpec(
        "KP-2024-004", "Vistara Knowledge Partners", "Bengaluru Research Centre",
        "Market research and financial modelling", KPO, "Research and analytics", BPS, "priya", "USD",
        "72000", "190000", "10", 12,
        [("report_accuracy", "98", "95", M, "40"), ("on_time_delivery", "95", "90", M, "40"),
         ("turnaround_time", "72", "96", M, "20")],
        started_months_ago=30, ends_in_days=300, replacement_days=60, missing_report_is_breach=False,
        monthly_leave_rate=0.02, missing=[("turnaround_time", 1)],
    ),
    ContractSpec(
        "CX-2024-015", "Sierra Madre Customer Care", "Monterrey Valle Oriente", "Bilingual technical support",
        FO, "Technical support", BPM, "manager", "USD", "148000", "265000", "15", 35,
        [("service_level", "80", "70", M, "25"), ("average_speed_of_answer", "25", "40", M, "15"),
         ("average_handle_time", "420", "480", M, "10"), ("first_contact_resolution", "75", "68", M, "25"),
         ("net_promoter_score", "30", "20", Q, "10"), ("attrition_rate", "4", "7", M, "15")],
        started_months_ago=28, ends_in_days=480, monthly_leave_rate=0.04,
    ),
    ContractSpec(
        "BO-2025-009", "Sierra Madre Customer Care", "Guadalajara Centro", "Order management back office",
        BO, "Order management", BPO, "manager", "USD", "41000", "78000", "10", 10,
        [("accuracy", "98.5", "97", M, "50"), ("turnaround_time", "24", "36", M, "50")],
        started_months_ago=16, expiring_soon_days=9, notice_days=60, auto_renew=True,
        notes="Auto-renews for 12 months unless notice is given.",
    ),
    ContractSpec(
        "CX-2023-021", "Cafetal BPO Group", "Medellín El Poblado", "Spanish-language customer care",
        FO, "Voice support", BPO, "manager", "USD", "88000", "190000", "12", 28,
        [("service_level", "80", "72", M, "30"), ("abandonment_rate", "5", "9", M, "20"),
         ("csat", "84", "78", M, "25"), ("schedule_adherence", "90", "85", W, "15"),
         ("attrition_rate", "5", "8", M, "10")],
        started_months_ago=38, ends_in_days=240, quality="poor", monthly_leave_rate=0.05,
        missing=[("*", 1)], scripted_departures=True, reporting_grace_days=7,
    ),
    ContractSpec(
        "BO-2024-012", "Wisła Shared Services", "Kraków Zabłocie", "Record-to-report finance and accounting",
        BO, "Accounting", BPS, "priya", "EUR", "74000", "160000", "10", 22,
        [("accuracy", "99.5", "99", M, "35"), ("on_time_delivery", "98", "95", M, "35"),
         ("turnaround_time", "24", "48", M, "15"), ("attrition_rate", "2", "4", M, "15")],
        started_months_ago=24, ends_in_days=700, replacement_days=45, monthly_leave_rate=0.015,
        missing=[("on_time_delivery", 2)],
    ),
    ContractSpec(
        "KP-2025-006", "Wisła Shared Services", "Wrocław Stare Miasto", "Data analytics and reporting",
        KPO, "Analytics", BPM, "priya", "USD", "52000", "118000", "10", 9,
        [("report_accuracy", "98", "96", M, "50"), ("on_time_delivery", "95", "90", M, "50")],
        started_months_ago=18, ends_in_days=560, replacement_days=60, monthly_leave_rate=0.015,
    ),
    ContractSpec(
        "CX-2024-018", "Protea Business Services", "Cape Town Century City", "Telemarketing and retention",
        FO, "Telemarketing", BPO, "manager", "USD", "69000", "155000", "10", 26,
        [("service_level", "80", "75", M, "20"), ("csat", "82", "76", M, "30"),
         ("quality_score", "88", "82", M, "30"), ("attrition_rate", "5", "8", M, "20")],
        started_months_ago=27, ends_in_days=390, quality="fair", monthly_leave_rate=0.045,
    ),
    ContractSpec(
        "BO-2025-014", "Protea Business Services", "Durban Umhlanga", "Insurance claims and document management",
        BO, "Claims processing", BPM, "manager", "USD", "47000", "104000", "10", 15,
        [("accuracy", "99", "97.5", M, "40"), ("turnaround_time", "48", "72", M, "30"),
         ("backlog", "80", "160", M, "30")],
        started_months_ago=15, ends_in_days=660,
    ),
    ContractSpec(
        "CX-2025-003", "Prairie Point Support", "Tulsa Operations Center", "Healthcare member services",
        FO, "Voice support", BPM, "manager", "USD", "236000", "305000", "8", 34,
        [("service_level", "85", "80", M, "30"), ("average_handle_time", "360", "420", M, "15"),
         ("first_contact_resolution", "78", "72", M, "25"), ("csat", "88", "84", M, "30")],
        started_months_ago=20, ends_in_days=820, replacement_days=21, monthly_leave_rate=0.025,
    ),
    ContractSpec(
        "LP-2024-002", "Cumberland Document Review", "Nashville Review Center", "E-discovery first-pass review",
        LPO, "Document review", BPO, "manager", "USD", "124000", "168000", "10", 20,
        [("review_throughput", "55", "45", M, "30"), ("accuracy", "98", "96", M, "40"),
         ("on_time_delivery", "97", "93", M, "30")],
        started_months_ago=29, ends_in_days=350, replacement_days=14,
    ),
    ContractSpec(
        "CX-2024-009", "Maple Ridge Contact Centres", "Moncton Centre", "French and English customer care",
        FO, "Voice support", BPM, "manager", "CAD", "176000", "248000", "10", 30,
        [("service_level", "80", "75", M, "30"), ("abandonment_rate", "4", "6", M, "20"),
         ("csat", "86", "82", M, "30"), ("attrition_rate", "3", "5", M, "20")],
        started_months_ago=25, ends_in_days=450, monthly_leave_rate=0.025,
    ),
    ContractSpec(
        "LP-2025-005", "Shannonside Legal Services", "Limerick Legal Hub", "Contract drafting and legal research",
        LPO, "Legal research", BPS, "priya", "EUR", "61000", "112000", "10", 8,
        [("accuracy", "98", "96", M, "40"), ("turnaround_time", "48", "72", M, "30"),
         ("on_time_delivery", "96", "92", M, "30")],
        started_months_ago=19, ends_in_days=620, replacement_days=60, monthly_leave_rate=0.015,
    ),
    ContractSpec(
        "CX-2023-008", "Nile Delta Outsourcing", "Cairo Smart Village", "Arabic and English technical support",
        FO, "Technical support", BPO, "manager", "USD", "54000", "140000", "12", 25,
        [("service_level", "80", "75", M, "40"), ("average_speed_of_answer", "30", "45", M, "30"),
         ("csat", "82", "76", M, "30")],
        started_months_ago=40, status=ContractStatus.TERMINATED, terminated_months_ago=5, quality="poor",
        notes="Terminated for cause after six major service-level breaches in nine months.",
    ),
    ContractSpec(
        "LP-2027-001", "Shannonside Legal Services", "Limerick Legal Hub", "GDPR subject-access request handling",
        LPO, "Compliance", BPM, "priya", "EUR", "38000", "66000", "10", 6,
        [("turnaround_time", "120", "168", M, "50"), ("accuracy", "99", "97", M, "50")],
        started_months_ago=0, status=ContractStatus.DRAFT, draft_starts_in_months=2,
        notes="Draft: commercial terms agreed, awaiting legal sign-off.",
    ),
]

# --- people ----------------------------------------------------------------------------------
FIRST_NAMES = {
    "PH": ["Maria", "Jose", "Angelica", "Mark", "Kristine", "John Paul", "Jasmine", "Rommel", "Liza", "Carlo",
           "Mae", "Arvin", "Joanna", "Paolo", "Rhea", "Jericho"],
    "IN": ["Aarav", "Priyanka", "Rohan", "Sneha", "Vikram", "Ananya", "Karthik", "Divya", "Suresh", "Pooja",
           "Arjun", "Lakshmi", "Rahul", "Nisha", "Sanjay", "Kavya"],
    "MX": ["Luis", "Fernanda", "Diego", "Valeria", "Jorge", "Ximena", "Carlos", "Daniela", "Miguel", "Sofía",
           "Ricardo", "Paola", "Eduardo", "Mariana"],
    "CO": ["Andrés", "Camila", "Santiago", "Valentina", "Julián", "Laura", "Sebastián", "Natalia", "Felipe",
           "Daniela", "Mateo", "Juliana"],
    "PL": ["Jakub", "Zuzanna", "Piotr", "Aleksandra", "Tomasz", "Magdalena", "Michał", "Agnieszka", "Krzysztof",
           "Joanna", "Paweł", "Marta"],
    "ZA": ["Sipho", "Lerato", "Thabo", "Naledi", "Pieter", "Anele", "Johan", "Zanele", "Kagiso", "Chantelle",
           "Bongani", "Refilwe"],
    "US": ["Jessica", "Michael", "Ashley", "Christopher", "Brittany", "Tyler", "Megan", "Brandon", "Amanda",
           "Justin", "Kayla", "Jordan"],
    "CA": ["Émilie", "Olivier", "Chloé", "Liam", "Marie-Ève", "Nathan", "Sarah", "Gabriel", "Isabelle", "Ethan"],
    "IE": ["Aoife", "Seán", "Niamh", "Conor", "Siobhán", "Darragh", "Róisín", "Cillian", "Orla", "Eoin"],
    "EG": ["Omar", "Nour", "Mahmoud", "Salma", "Youssef", "Mariam", "Karim", "Hana", "Mostafa", "Yasmin"],
}
LAST_NAMES = {
    "PH": ["Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Villanueva", "Ramos", "Aquino",
           "Castillo", "Navarro", "Dizon", "Fernandez", "Manalo"],
    "IN": ["Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Rao", "Kulkarni", "Desai",
           "Banerjee", "Joshi", "Pillai", "Verma"],
    "MX": ["Hernández", "García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez", "Ramírez",
           "Torres", "Flores", "Cantú"],
    "CO": ["Restrepo", "Gómez", "Rodríguez", "Vélez", "Ospina", "Jaramillo", "Castaño", "Zapata", "Cardona",
           "Muñoz", "Arango", "Londoño"],
    "PL": ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska", "Zieliński", "Szymańska",
           "Woźniak", "Dąbrowski", "Kozłowska", "Mazur"],
    "ZA": ["Nkosi", "Dlamini", "van der Merwe", "Mokoena", "Botha", "Naidoo", "Khumalo", "Pretorius",
           "Mthembu", "Jacobs", "Ndlovu", "Smit"],
    "US": ["Johnson", "Williams", "Brown", "Davis", "Miller", "Wilson", "Anderson", "Thomas", "Jackson",
           "Harris", "Clark", "Lewis"],
    "CA": ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "MacDonald", "Leblanc", "Martin",
           "Thompson"],
    "IE": ["Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne", "Ryan", "O'Connor", "Doyle", "McCarthy"],
    "EG": ["Hassan", "Mahmoud", "Ibrahim", "Mostafa", "Abdelrahman", "Farouk", "Saleh", "Nasser", "Fahmy", "Gaber"],
}
ROLES = {
    FO: [("Customer service agent", 14), ("Senior agent", 3), ("Team leader", 2), ("Quality analyst", 1),
         ("Workforce analyst", 1)],
    BO: [("Processing associate", 10), ("Senior associate", 3), ("Team lead", 1), ("Quality analyst", 1)],
    KPO: [("Research analyst", 6), ("Senior analyst", 3), ("Engagement manager", 1)],
    LPO: [("Document reviewer", 5), ("Paralegal", 3), ("Contract analyst", 2), ("Review manager", 1)],
}
MAJOR_BREACH_NOTES = [
    "Vendor cites an unplanned telecom outage during peak hours.",
    "Volume 30 % above forecast after a product launch; staffing plan revised.",
    "Attrition in the team left the floor short-staffed for two weeks.",
    "Platform migration at the vendor caused a processing backlog.",
    "Storm-related power outage at the delivery centre.",
    "",
]

# fmt: on

QUALITY = {  # probability of (minor, major) per period
    "good": (0.08, 0.03),
    "fair": (0.14, 0.06),
    "poor": (0.22, 0.14),
}


# --- plan ------------------------------------------------------------------------------------
@dataclass
class StaffPlan:
    employee_ref: str
    full_name: str
    role: str
    joined_on: datetime.date
    left_on: datetime.date | None = None
    leave_reason: str = ""
    # the obligation, when left_on is set
    candidate_provided_on: datetime.date | None = None
    replacement_productive_on: datetime.date | None = None
    replacement_ref: str | None = None


@dataclass
class SLAPlan:
    kpi_code: str
    expected: Decimal
    minimum: Decimal
    frequency: str
    credit_allocation_percent: Decimal
    effective_from: datetime.date
    effective_to: datetime.date | None
    # (period_start, period_end, value, note)
    measurements: list = field(default_factory=list)


@dataclass
class ContractPlan:
    spec: ContractSpec
    start_date: datetime.date
    end_date: datetime.date
    slas: list = field(default_factory=list)
    staff: list = field(default_factory=list)


def _random_day(rng, first, last):
    if last <= first:
        return first
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


def _quantum(kpi):
    return {"seconds": Decimal("1"), "count": Decimal("1"), "score": Decimal("1")}.get(kpi.unit, Decimal("0.01"))


def _evaluate(value, expected, minimum, higher_is_better):
    """Rule 1 for one figure: ``met``, ``minor`` or ``major``."""
    if (value >= expected) if higher_is_better else (value <= expected):
        return "met"
    if (value >= minimum) if higher_is_better else (value <= minimum):
        return "minor"
    return "major"


def _draw_value(rng, kpi, expected, minimum, outcome):
    """A figure for ``kpi`` that lands on ``outcome`` (met / minor / major) against the SLA levels."""
    higher = kpi.direction == Direction.HIGHER_IS_BETTER
    quantum = _quantum(kpi)
    gap = abs(expected - minimum) or max(abs(expected) * Decimal("0.05"), quantum)
    ceiling = Decimal("100") if kpi.unit == "percent" else None
    sign = 1 if higher else -1
    if outcome == "minor" and expected == minimum:
        outcome = "major"
    if outcome == "met":
        room = gap * Decimal("1.2") if higher else min(gap * Decimal("1.2"), expected * Decimal("0.5"))
        value = expected + sign * room * Decimal(str(rng.uniform(0, 1)))
    elif outcome == "minor":
        value = expected - sign * gap * Decimal(str(rng.uniform(0.1, 0.95)))
    else:
        value = minimum - sign * gap * Decimal(str(rng.uniform(0.1, 1.5)))
    value = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if ceiling is not None:
        value = min(value, ceiling)
    value = max(value, Decimal("0"))
    # Quantising can push a figure across a threshold: nudge it back to the drawn outcome.
    for _ in range(200):
        got = _evaluate(value, expected, minimum, higher)
        if got == outcome:
            break
        order = ["met", "minor", "major"]
        worse = order.index(got) < order.index(outcome)
        value += -sign * quantum if worse else sign * quantum
        value = max(value, Decimal("0"))
    return value


def _periods(frequency, first, last_day):
    """Whole periods of ``frequency`` starting on/after ``first`` and ending on/before ``last_day``."""
    start = periods.period_start(frequency, first)
    if start < first:
        start = periods.next_period_start(frequency, first)
    result = []
    while True:
        end = periods.period_end(frequency, start)
        if end > last_day:
            return result
        result.append((start, end))
        start = end + ONE_DAY


def _name(rng, country):
    country = country if country in FIRST_NAMES else "US"
    return f"{rng.choice(FIRST_NAMES[country])} {rng.choice(LAST_NAMES[country])}"


def _role(rng, service_type):
    names, weights = zip(*ROLES[service_type], strict=True)
    return rng.choices(names, weights=weights)[0]


def roster_attrition_percent(staff, first, last):
    """Rule 6 for one month of one roster (a list of StaffPlan), counted from the plan (not the database)."""
    departures = sum(1 for s in staff if s.left_on and first <= s.left_on <= last)
    at_start = sum(1 for s in staff if s.joined_on <= first and (s.left_on is None or s.left_on >= first))
    at_end = sum(1 for s in staff if s.joined_on <= last and (s.left_on is None or s.left_on > last))
    return rule6_attrition_percent(departures, at_start, at_end)


def _plan_roster(rng, spec, start, today, centre_country):
    """The roster: initial team at the start, monthly departures, replacements by engagement model."""
    prefix = spec.reference.split("-")[0] + spec.reference[-3:]
    counter = iter(range(1001, 100000))
    staff = []

    def hire(joined_on, role=None):
        member = StaffPlan(
            employee_ref=f"{prefix}-{next(counter)}",
            full_name=_name(rng, centre_country),
            role=role or _role(rng, spec.service_type),
            joined_on=joined_on,
        )
        staff.append(member)
        return member

    for _ in range(spec.headcount):
        hire(start - datetime.timedelta(days=rng.randint(0, 21)))

    days = spec.replacement_days
    bpo = spec.engagement_model == EngagementModel.BPO
    yesterday = today - ONE_DAY

    def settle(member, state, fulfilled_on=None):
        """Record how the departure of ``member`` was (or was not yet) made good."""
        left, due = member.left_on, member.left_on + datetime.timedelta(days=days)
        if left >= yesterday:
            return  # left today or yesterday: nothing can have been made good yet, whatever the plan says
        if state in ("on_time", "late"):
            if fulfilled_on is None:
                if state == "on_time":
                    fulfilled_on = left + datetime.timedelta(days=rng.randint(max(1, days * 2 // 5), days))
                else:
                    fulfilled_on = due + datetime.timedelta(days=rng.randint(2, 21))
            fulfilled_on = min(fulfilled_on, yesterday)
            if bpo:
                member.candidate_provided_on = fulfilled_on
                productive = fulfilled_on + datetime.timedelta(days=rng.randint(10, 21))
                member.replacement_productive_on = productive if productive < today else None
                joined = fulfilled_on + datetime.timedelta(days=rng.randint(3, 10))
            else:
                candidate = max(left, fulfilled_on - datetime.timedelta(days=rng.randint(7, 14)))
                member.candidate_provided_on = candidate
                member.replacement_productive_on = fulfilled_on
                joined = candidate
            if joined < today:
                member.replacement_ref = hire(joined, member.role).employee_ref
        elif state == "candidate_only" and not bpo:
            # BPM/BPS: the vendor found someone, but they are still in training — not yet fulfilled.
            candidate = min(yesterday, left + datetime.timedelta(days=rng.randint(5, max(5, days - 5))))
            member.candidate_provided_on = candidate
            member.replacement_ref = hire(candidate, member.role).employee_ref
        # "open": nothing yet

    def leave(member, left_on):
        member.left_on = left_on
        member.leave_reason = rng.choices(
            [LeaveReason.VOLUNTARY, LeaveReason.INVOLUNTARY, LeaveReason.TRANSFER, LeaveReason.OTHER],
            weights=[70, 15, 10, 5],
        )[0]

    # Scripted departures guarantee one of each obligation state on this contract.
    if spec.scripted_departures:
        scripted = [
            (today - datetime.timedelta(days=days + 12), "open"),  # overdue
            (today - datetime.timedelta(days=days + 45), "late"),
            (today - datetime.timedelta(days=days + 80), "on_time"),
        ]
        for left_on, state in scripted:
            member = rng.choice([s for s in staff[: spec.headcount] if s.left_on is None])
            leave(member, left_on)
            settle(member, state)

    month = periods.month_start(start)
    while month <= today:
        last = min(periods.month_end(month), yesterday)
        for member in list(staff):
            if member.left_on is not None or member.joined_on > month or rng.random() >= spec.monthly_leave_rate:
                continue
            leave(member, _random_day(rng, month, last))
            due = member.left_on + datetime.timedelta(days=days)
            if due >= today:  # not due yet: some already made good, most still open
                state = "on_time" if rng.random() < 0.35 else ("candidate_only" if rng.random() < 0.3 else "open")
            elif due >= today - datetime.timedelta(days=40):  # recently due: a few still overdue
                state = rng.choices(["on_time", "late", "open", "candidate_only"], weights=[45, 25, 20, 10])[0]
            else:
                state = rng.choices(["on_time", "late"], weights=[72, 28])[0]
            if state == "on_time" and due >= today:
                settle(member, state, fulfilled_on=_random_day(rng, member.left_on, yesterday))
            else:
                settle(member, state)
        month = periods.month_start(month, 1)
    return staff


def _plan_contract(spec, today):
    rng = random.Random(f"sla-demo:{spec.reference}")
    vendor = next(v for v in VENDORS if v[0] == spec.vendor)
    centre = next(c for c in vendor[7] if c[0] == spec.centre)
    this_month = periods.month_start(today)
    last_complete = this_month - ONE_DAY  # last day of the last complete month

    if spec.draft_starts_in_months is not None:
        start = periods.month_start(today, spec.draft_starts_in_months)
        end = periods.month_end(periods.month_start(start, 35))
    else:
        start = periods.month_start(today, -spec.started_months_ago)
        if spec.terminated_months_ago is not None:
            end = periods.month_end(periods.month_start(today, -spec.terminated_months_ago))
        elif spec.expiring_soon_days is not None:
            end = today + datetime.timedelta(days=spec.notice_days + spec.expiring_soon_days)
        else:
            end = periods.month_end(today + datetime.timedelta(days=spec.ends_in_days))
    plan = ContractPlan(spec=spec, start_date=start, end_date=end)

    if spec.status != ContractStatus.DRAFT and spec.terminated_months_ago is None:
        plan.staff = _plan_roster(rng, spec, start, today, centre[2])

    history_start = max(start, periods.month_start(last_complete, -HISTORY_MONTHS))
    kpis = {k.code: k for k in KPI.objects.filter(code__in=[s[0] for s in spec.slas])}
    minor_p, major_p = QUALITY[spec.quality]
    for code, expected, minimum, frequency, credit in spec.slas:
        kpi = kpis[code]
        if spec.status == ContractStatus.DRAFT:
            effective_from = start
        else:
            effective_from = periods.period_start(frequency, history_start)
            if effective_from < history_start:
                effective_from = periods.next_period_start(frequency, history_start)
        sla = SLAPlan(
            kpi_code=code,
            expected=Decimal(expected),
            minimum=Decimal(minimum),
            frequency=frequency,
            credit_allocation_percent=Decimal(credit),
            effective_from=effective_from,
            effective_to=end if spec.status == ContractStatus.TERMINATED else None,
        )
        plan.slas.append(sla)
        if spec.status == ContractStatus.DRAFT:
            continue
        last_day = min(end, today - ONE_DAY)
        windows = _periods(frequency, effective_from, last_day)
        skipped = {
            len(windows) - ago
            for missing_code, ago in spec.missing
            if (missing_code == code or (missing_code == "*" and not kpi.is_computed)) and ago > 0
        }
        for index, (period_start, period_end) in enumerate(windows):
            if index in skipped:
                continue
            if kpi.is_computed:
                value = roster_attrition_percent(plan.staff, period_start, period_end)
                if value is None:
                    continue
                sla.measurements.append((period_start, period_end, value, "", MeasurementSource.COMPUTED))
                continue
            draw = rng.random()
            outcome = "major" if draw < major_p else ("minor" if draw < major_p + minor_p else "met")
            value = _draw_value(rng, kpi, sla.expected, sla.minimum, outcome)
            note = rng.choice(MAJOR_BREACH_NOTES) if outcome == "major" else ""
            sla.measurements.append((period_start, period_end, value, note, MeasurementSource.MANUAL))
    return plan


def build_plan(today=None):
    today = today or timezone.localdate()
    return [_plan_contract(spec, today) for spec in CONTRACTS]


# --- load ------------------------------------------------------------------------------------
def _ensure_users(stdout=None):
    User = get_user_model()
    groups = {
        "manager": Group.objects.get_or_create(name=roles.MANAGERS_GROUP)[0],
        "viewer": Group.objects.get_or_create(name=roles.VIEWERS_GROUP)[0],
    }
    users = {}
    for username, password, first, last, email, role, all_vendors in DEMO_USERS:
        is_admin = role == "admin"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": email,
                "is_staff": is_admin,
                "is_superuser": is_admin,
            },
        )
        changed = []
        if created or not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if is_admin and not (user.is_staff and user.is_superuser):
            user.is_staff = user.is_superuser = True
            changed += ["is_staff", "is_superuser"]
        if not user.email:
            user.email = email
            changed.append("email")
        if changed:
            user.save(update_fields=changed)
        if role in groups:
            user.groups.add(groups[role])
        profile, _ = Profile.objects.get_or_create(user=user)
        if all_vendors and not profile.receives_all_vendors_digest:
            profile.receives_all_vendors_digest = True
            profile.save(update_fields=["receives_all_vendors_digest"])
        users[username] = user
    return users


def _ensure_vendors():
    certifications = {c.code: c for c in Certification.objects.all()}
    vendors, centres = {}, {}
    for name, country, status, risk, certs, (contact, email), notes, centre_specs in VENDORS:
        domain = email.split("@", 1)[1]
        vendor, _ = Vendor.objects.get_or_create(
            name=name,
            defaults={
                "country": country,
                "status": status,
                "risk_tier": risk,
                "website": f"https://www.{domain}",
                "contact_name": contact,
                "contact_email": email,
                "notes": notes,
            },
        )
        vendor.certifications.add(*[certifications[c] for c in certs if c in certifications])
        vendors[name] = vendor
        for centre_name, city, centre_country, tz, seats, always_on in centre_specs:
            centre, _ = DeliveryCenter.objects.get_or_create(
                vendor=vendor,
                name=centre_name,
                defaults={
                    "city": city,
                    "country": centre_country,
                    "timezone": tz,
                    "seats": seats,
                    "operates_24x7": always_on,
                },
            )
            centres[(name, centre_name)] = centre
    return vendors, centres


def _recorded_at(period_end, rng_value):
    """When the figure was entered: a few working hours after the period closed (never in the future)."""
    day = period_end + datetime.timedelta(days=1 + rng_value % 4)
    moment = datetime.datetime.combine(day, datetime.time(9 + rng_value % 8, 0), tzinfo=datetime.UTC)
    return min(moment, timezone.now())


# Demo exchange rates: roughly what one unit was worth in US dollars, wobbling a little from month to month.
DEMO_USD_VALUE = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.73"),
    "AUD": Decimal("0.66"),
    "INR": Decimal("0.012"),
    "PHP": Decimal("0.0175"),
    "MXN": Decimal("0.055"),
    "COP": Decimal("0.00025"),
    "PLN": Decimal("0.25"),
    "ZAR": Decimal("0.054"),
    "CHF": Decimal("1.12"),
    "JPY": Decimal("0.0067"),
    "SGD": Decimal("0.74"),
}


def demo_exchange_rates(currencies, first_month, last_month, reporting_currency):
    """``[(currency, month, rate)]`` to ``reporting_currency`` for every month first..last: complete, so the
    demo's reporting-currency totals are never incomplete (none when the reporting currency has no demo value)."""
    rows = []
    if reporting_currency not in DEMO_USD_VALUE:
        return rows
    month = first_month
    while month <= last_month:
        wobble = 1 + Decimal((month.year * 12 + month.month) % 7 - 3) / 200  # ± 1.5 %
        for currency in sorted(set(currencies) - {reporting_currency}):
            rate = DEMO_USD_VALUE[currency] / DEMO_USD_VALUE[reporting_currency] * wobble
            rows.append((currency, month, rate.quantize(Decimal("0.0000001"), ROUND_HALF_UP)))
        month = periods.month_start(month, 1)
    return rows


def _ensure_exchange_rates(plans, today):
    """A rate for each demo contract currency and month from the earliest contract start to this month."""
    first = min(periods.month_start(plan.start_date) for plan in plans)
    wanted = demo_exchange_rates(
        {plan.spec.currency for plan in plans}, first, periods.month_start(today), settings.REPORTING_CURRENCY
    )
    have = set(ExchangeRate.objects.values_list("currency", "month"))
    rows = [ExchangeRate(currency=c, month=m, rate=r) for c, m, r in wanted if (c, m) not in have]
    ExchangeRate.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def load_demo_data(today=None):
    """Create the demo data set (what is missing of it). Returns a Counter of rows created per model."""
    today = today or timezone.localdate()
    created = Counter()
    plans = build_plan(today)
    users = _ensure_users()
    vendors, centres = _ensure_vendors()
    kpis = {k.code: k for k in KPI.objects.all()}

    contracts = {}
    for plan in plans:
        spec = plan.spec
        contract, was_created = Contract.objects.get_or_create(
            reference=spec.reference,
            defaults={
                "vendor": vendors[spec.vendor],
                "delivery_center": centres[(spec.vendor, spec.centre)],
                "title": spec.title,
                "owner": users[spec.owner],
                "engagement_model": spec.engagement_model,
                "service_type": spec.service_type,
                "service_line": spec.service_line,
                "start_date": plan.start_date,
                "end_date": plan.end_date,
                "notice_days": spec.notice_days,
                "auto_renew": spec.auto_renew,
                "currency": spec.currency,
                "monthly_fee": Decimal(spec.monthly_fee),
                "baseline_monthly_cost": Decimal(spec.baseline),
                "at_risk_percent": Decimal(spec.at_risk),
                "contracted_headcount": spec.headcount,
                "replacement_days": spec.replacement_days,
                "reporting_grace_days": spec.reporting_grace_days,
                "missing_report_is_breach": spec.missing_report_is_breach,
                "earn_back_periods": spec.earn_back_periods,
                "status": spec.status,
                "notes": spec.notes,
            },
        )
        created["contracts"] += was_created
        contracts[spec.reference] = contract

    # SLAs, keyed by (contract, KPI).
    existing_slas = {(s.contract_id, s.kpi_id): s for s in SLA.objects.filter(contract__in=contracts.values())}
    sla_rows = []
    for plan in plans:
        contract = contracts[plan.spec.reference]
        for sla_plan in plan.slas:
            key = (contract.pk, kpis[sla_plan.kpi_code].pk)
            if key in existing_slas:
                continue
            sla = SLA.objects.create(
                contract=contract,
                kpi=kpis[sla_plan.kpi_code],
                expected=sla_plan.expected,
                minimum=sla_plan.minimum,
                frequency=sla_plan.frequency,
                credit_allocation_percent=sla_plan.credit_allocation_percent,
                effective_from=sla_plan.effective_from,
                effective_to=sla_plan.effective_to,
            )
            existing_slas[key] = sla
            created["slas"] += 1

    # Measurements, keyed by (SLA, period_start); existing figures are never touched.
    sla_ids = [s.pk for s in existing_slas.values()]
    have = set(Measurement.objects.filter(sla_id__in=sla_ids).values_list("sla_id", "period_start"))
    for plan in plans:
        contract = contracts[plan.spec.reference]
        owner = users[plan.spec.owner]
        for sla_plan in plan.slas:
            sla = existing_slas[(contract.pk, kpis[sla_plan.kpi_code].pk)]
            for n, (start, end, value, note, source) in enumerate(sla_plan.measurements):
                if (sla.pk, start) in have:
                    continue
                sla_rows.append(
                    Measurement(
                        sla=sla,
                        period_start=start,
                        period_end=end,
                        value=value,
                        source=source,
                        recorded_by=None if source == MeasurementSource.COMPUTED else owner,
                        recorded_at=_recorded_at(end, n * 7 + len(note)),
                        note=note,
                    )
                )
    Measurement.objects.bulk_create(sla_rows, batch_size=500)
    created["measurements"] += len(sla_rows)

    # Staff, keyed by (contract, employee_ref), then one obligation per departure.
    contract_ids = [c.pk for c in contracts.values()]
    have_staff = set(
        StaffMember.objects.filter(contract_id__in=contract_ids).values_list("contract_id", "employee_ref")
    )
    staff_rows = []
    for plan in plans:
        contract = contracts[plan.spec.reference]
        for member in plan.staff:
            if (contract.pk, member.employee_ref) in have_staff:
                continue
            staff_rows.append(
                StaffMember(
                    contract=contract,
                    employee_ref=member.employee_ref,
                    full_name=member.full_name,
                    role=member.role,
                    joined_on=member.joined_on,
                    left_on=member.left_on,
                    leave_reason=member.leave_reason,
                )
            )
    StaffMember.objects.bulk_create(staff_rows, batch_size=500)
    created["staff"] += len(staff_rows)

    staff_ids = {
        (contract_id, ref): pk
        for pk, contract_id, ref in StaffMember.objects.filter(contract_id__in=contract_ids).values_list(
            "pk", "contract_id", "employee_ref"
        )
    }
    have_obligations = set(
        ReplacementObligation.objects.filter(departed__contract_id__in=contract_ids).values_list(
            "departed_id", flat=True
        )
    )
    obligation_rows = []
    for plan in plans:
        contract = contracts[plan.spec.reference]
        for member in plan.staff:
            departed_id = staff_ids.get((contract.pk, member.employee_ref))
            if member.left_on is None or departed_id is None or departed_id in have_obligations:
                continue
            obligation_rows.append(
                ReplacementObligation(
                    departed_id=departed_id,
                    due_on=ReplacementObligation.due_date_for(StaffMember(contract=contract, left_on=member.left_on)),
                    candidate_provided_on=member.candidate_provided_on,
                    replacement_productive_on=member.replacement_productive_on,
                    replacement_id=staff_ids.get((contract.pk, member.replacement_ref)),
                )
            )
    ReplacementObligation.objects.bulk_create(obligation_rows, batch_size=500)
    created["obligations"] += len(obligation_rows)
    created["exchange rates"] += _ensure_exchange_rates(plans, today)
    # Governance rows that hang off the rosters: RACI grids and individual figures.
    created.update(governance_demo.load_governance_demo(today, [spec.reference for spec in CONTRACTS]))
    return created


# --- detection dates -------------------------------------------------------------------------
def date_demo_detections(now=None):
    """Give each demo breach the ``detected_at`` it would have had if the hourly checks had been running
    all along, instead of the moment ``run_sla_checks`` first ran after seeding (which puts every breach
    in this week's digest and none in the weeks before):

    * a performance breach: shortly after its figure was recorded (the check queued by the save);
    * a missing report: the night after the reporting grace ran out (``period_end`` + grace + 1 day);
    * an overdue replacement: the night after it fell due (``due_on`` = ``period_end`` + 1 day);

    never later than ``now``. Only breaches of the demo contracts are touched; running it again gives the
    same dates. Demo-only: the engine keeps stamping real detections with the time it sees them.
    Returns the number of breaches updated.
    """
    from kpis.choices import BreachKind
    from kpis.models import Breach

    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    breaches = list(
        Breach.objects.filter(contract__reference__in=[spec.reference for spec in CONTRACTS])
        .select_related("contract", "measurement")
        .only("pk", "kind", "period_end", "detected_at", "contract__reporting_grace_days", "measurement__recorded_at")
    )

    def night_after(day, offset):
        moment = datetime.datetime.combine(day + ONE_DAY, datetime.time(1, 5 + offset % 50), tzinfo=tz)
        return moment

    for breach in breaches:
        offset = breach.pk % 47  # a small spread, stable from run to run
        if breach.kind == BreachKind.PERFORMANCE and breach.measurement_id:
            detected = breach.measurement.recorded_at + datetime.timedelta(minutes=2 + offset)
        elif breach.kind == BreachKind.MISSING_REPORT:
            grace = datetime.timedelta(days=breach.contract.reporting_grace_days)
            detected = night_after(breach.period_end + grace, offset)
        else:
            detected = night_after(breach.period_end, offset)
        if detected <= now:  # not yet due by the plan: it keeps the time the engine saw it (idempotent)
            breach.detected_at = detected
    Breach.objects.bulk_update(breaches, ["detected_at"], batch_size=500)
    # Corrective actions, once the breaches they answer exist and are dated.
    governance_demo.open_demo_actions(timezone.localtime(now).date(), [spec.reference for spec in CONTRACTS])
    return len(breaches)
