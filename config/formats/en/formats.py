"""ISO dates everywhere in English (``FORMAT_MODULE_PATH``): the admin site shows ``2026-09-30`` and
``2026-09-30 07:00`` like the app's own pages, not Django's "Sept. 30, 2026, 7 a.m.". Input formats and
everything not named here come from Django's own ``en`` locale."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 1  # Monday, as ISO weeks (the digest's weeks)
