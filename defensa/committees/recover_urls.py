"""Account recovery: the public request, the administrators' page, the single-use link."""

from django.urls import path

from defensa.committees import recovery_views

app_name = "recover"
urlpatterns = [
    path("", recovery_views.ask, name="ask"),
    path("admins/", recovery_views.admin_requests, name="admin_requests"),
    path("admins/<int:pk>/<str:verb>/", recovery_views.admin_decide, name="admin_decide"),
    path("<str:token>/", recovery_views.link, name="link"),
]
