"""Demo incidents (called by defensa/demo): fictional reports fed through the real intake.

Each sighting goes through `receive_report()` (so reports are grouped into incidents as they
would be) and each incident through legal state changes, so the timeline and the audit chain
are real. Places are real Los Angeles corners; what people wrote is invented.
"""

from __future__ import annotations

import datetime as dt

from defensa.accounts.models import User
from defensa.incidents.actions import change_state
from defensa.reports.actions import receive_report

# (minutes ago, channel, category, lat, lon, place, language, description)
Sighting = tuple[int, str, str, float, float, str, str, str]
# Per incident: its sightings, then its (state, persona who moves it, note) steps.
INCIDENTS: tuple[tuple[tuple[Sighting, ...], tuple[tuple[str, str, str], ...]], ...] = (
    (  # Boyle Heights: a car wash raid, three reports by three channels, confirmed.
        (
            (38, "web", "workplace_raid", 34.0441, -118.2113, "E Cesar E Chavez Ave y Soto",
             "es", "Camionetas sin placas frente al car wash, agentes con chalecos."),
            (33, "sms", "workplace_raid", 34.0444, -118.2109, "Chavez & Soto car wash",
             "en", "ICE at the car wash on Chavez, at least 6 agents"),
            (30, "operator", "workplace_raid", 34.0439, -118.2116, "Car wash, Cesar Chavez",
             "es", "Llamada: están sacando a los trabajadores por la parte de atrás."),
        ),
        (
            ("verifying", "dispatcher", "Dos verificadores en camino."),
            ("confirmed", "verifier", "Confirmado: 4 vehículos, agentes de ICE, 3 detenidos."),
        ),
    ),
    (  # East LA: a checkpoint, two reports, being verified now.
        (
            (14, "sms", "checkpoint", 34.0239, -118.1543, "Whittier Blvd & Atlantic",
             "es", "Retén en Whittier y Atlantic, están pidiendo papeles."),
            (9, "web", "checkpoint", 34.0242, -118.1547, "Whittier y Atlantic",
             "es", "Patrullas y una camioneta blanca bloqueando un carril."),
        ),
        (("verifying", "dispatcher", "Oferta enviada a los verificadores de turno."),),
    ),
    (  # Huntington Park: a single sighting, nobody has looked yet.
        (
            (4, "web", "sighting", 33.9820, -118.2253, "Pacific Blvd near Gage",
             "en", "Two unmarked SUVs parked outside the swap meet."),
        ),
        (),
    ),
    (  # Pico-Union: a vehicle stop that turned out to be a tow truck: false alarm.
        (
            (95, "voice", "vehicle_stop", 34.0575, -118.2777, "MacArthur Park, Alvarado",
             "es", "Dicen que paran carros en Alvarado."),
        ),
        (
            ("verifying", "dispatcher", ""),
            ("false_alarm", "verifier", "Era una grúa municipal, no había agentes."),
        ),
    ),
    (  # South LA: yesterday's arrest at a home, confirmed and since closed.
        (
            (1500, "operator", "home_arrest", 34.0082, -118.2562, "Central Ave & 41st St",
             "es", "Se llevaron a un vecino al salir de su casa a las 6 am."),
        ),
        (
            ("confirmed", "dispatcher", "La familia confirmó. Caso abierto con el equipo legal."),
            ("closed", "legal", "Familia en contacto con el abogado; seguimiento en el caso."),
        ),
    ),
)  # fmt: skip


def seed(now: dt.datetime, personas: dict[str, User]) -> dict[str, int]:
    """Report every sighting of INCIDENTS and move each incident through its steps."""
    incidents = set()
    for n, (sightings, steps) in enumerate(INCIDENTS):
        report = None
        for k, (ago, channel, category, lat, lon, place, language, text) in enumerate(sightings):
            data = {
                "category": category, "lat": lat, "lon": lon, "location_text": place,
                "location_kind": "gps" if channel == "web" else "cross_streets",
                "observed_at": now - dt.timedelta(minutes=ago), "language": language,
                "description": text,
            }  # fmt: skip
            actor = personas["dispatcher"] if channel in ("operator", "voice") else None
            report = receive_report(
                data, channel=channel, actor=actor, idempotency_key=f"demo-seed-{n}-{k}"
            ).report
        if report is None:
            raise ValueError(f"demo incident {n} has no sightings")
        incident = report.incident
        for state, who, note in steps:
            change_state(incident, state, actor=personas[who], note=note)
        incidents.add(incident.pk)
    return {"incidents": len(incidents)}
