"""Device notifications: subscribe endpoints under /me/push/, the service worker and the
manifest at the root (a service worker's scope is its own folder and below)."""

from django.urls import path

from defensa.notify.transports.webpush import views

app_name = "webpush"
urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("me/push/subscribe/", views.subscribe, name="subscribe"),
    path("me/push/unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("me/push/off/", views.turn_off, name="turn_off"),
    path("me/push/test/", views.test, name="test"),
]
