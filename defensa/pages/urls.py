from django.urls import path

from defensa.pages import views

app_name = "pages"
urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("rights/", views.rights, name="rights"),
    path("rights/<slug:topic>/", views.rights_topic, name="rights_topic"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
]
