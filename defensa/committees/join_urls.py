"""Invitation links (public): /join/<token>/ and its second step."""

from django.urls import path

from defensa.committees import views

app_name = "join"
urlpatterns = [
    path("<str:token>/", views.join, name="start"),
    path("<str:token>/code/", views.join_code, name="code"),
]
