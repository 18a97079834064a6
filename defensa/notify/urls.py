from django.urls import path

from defensa.notify import views
from defensa.notify.transports.gateway.webhook import gateway_webhook

app_name = "notify"
urlpatterns = [
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.retry, name="retry"),
    path("deliveries/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("channels/", views.channels, name="channels"),
    path("channels/<str:channel>/test/", views.channel_test, name="channel_test"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("twilio/status/", views.twilio_status, name="twilio_status"),
    path("gateway/<str:token>/", gateway_webhook, name="gateway_webhook"),
]
