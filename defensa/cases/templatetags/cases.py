"""Template tags other pages use to point at cases and plans without importing views.

`{% incident_case_notice incident %}` on an incident: for anyone who may see the incident, at
most "a case is open; the legal team has it". (My page's links are in defensa/pages/places.py.)
"""

from __future__ import annotations

from typing import Any

from django import template

from defensa.cases import access

register = template.Library()


@register.inclusion_tag("cases/_incident_case.html", takes_context=True)
def incident_case_notice(context: dict[str, Any], incident: Any) -> dict[str, Any]:
    user = context.get("user")
    case = access.cases_for(user).filter(incident=incident).order_by("-created_at").first()
    return {"exists": case is not None or access.case_exists_for_incident(incident), "case": case}
