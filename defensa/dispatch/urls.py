from django.urls import path

from defensa.dispatch import views

app_name = "dispatch"
urlpatterns = [
    # Short, because it goes into text messages.
    path("r/<str:token>/", views.respond, name="respond"),
    path("alerts/", views.area_alerts, name="alerts"),
    path("dispatch/<slug:slug>/", views.console, name="console"),
    path("network/<slug:slug>/policy/", views.policy, name="policy"),
    path("dispatch/<slug:slug>/queue/", views.queue, name="queue"),
    path("dispatch/<slug:slug>/<int:pk>/verify/", views.request_verification, name="verify"),
    path("dispatch/<slug:slug>/<int:pk>/<slug:verb>/", views.decide, name="decide"),
]
