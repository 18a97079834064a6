"""Spanish as written in the United States: Django's Spanish formats, with the decimal point
and thousands comma that US Spanish uses for money and counts ($0.83).

Dates keep Django's Spanish forms, whose month names are lower-case ("4 de diciembre de
2026"). Django reads this module through FORMAT_MODULE_PATH (settings.py).
"""

from django.conf.locale.es.formats import *  # noqa: F403 - the rest of Spanish unchanged

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","  # where grouping is on (USE_THOUSAND_SEPARATOR is off)
NUMBER_GROUPING = 3
