from django.urls import path

from defensa.reports import views

app_name = "reports"

urlpatterns = [
    path("report/new/", views.new_report, name="new"),
    path("hotline/new/", views.operator_new, name="operator"),
    path("hotline/mine/", views.operator_incidents, name="operator_incidents"),
    path("reports/<str:ref>/contact/", views.reveal_contact, name="reveal_contact"),
]
