"""Spanish is first-class: errors and pages come back in the person's language."""

from __future__ import annotations

import pytest

from .helpers import invite

pytestmark = pytest.mark.django_db


def test_field_errors_in_spanish(net, client_as):
    client = client_as(net.vero)
    client.cookies["django_language"] = "es"
    response = client.post("/me/area/", {"mode": "zip", "zip_code": "9003"})
    assert response.status_code == 400
    assert "El código postal tiene 5 dígitos".encode() in response.content
    response = client.post(
        "/me/availability/shifts/",
        {"committee": "boyle-heights", "weekday": "1", "start": "08:00", "end": "08:00"},
    )
    assert b"no puede empezar y terminar a la misma hora" in response.content


def test_bad_link_page_in_spanish(net, client):
    response = client.get("/join/nope/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    assert b"Este enlace no funciona" in response.content


def test_join_form_in_spanish(net, client):
    _, token = invite(net.boyle, net.ana)
    client.cookies["django_language"] = "es"
    page = client.get(f"/join/{token}/").content.decode()
    assert "Únete a Boyle Heights" in page and "Nombre que ven los demás" in page
    response = client.post(
        f"/join/{token}/", {"display_name": "Rosa", "email": "x", "language": "es"}
    )
    assert "Revisa esto" in response.content.decode()
