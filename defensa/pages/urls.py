from django.urls import path

from defensa.pages import views

app_name = "pages"
urlpatterns = [
    path("", views.home, name="home"),
    path("rights/", views.rights, name="rights"),
]
