from django.urls import path

from defensa.ops import views

app_name = "ops"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.prometheus, name="metrics"),
    path("readiness/", views.readiness_page, name="readiness"),
]
