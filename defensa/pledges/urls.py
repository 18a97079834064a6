from django.urls import path

from defensa.pledges import views

app_name = "pledges"
urlpatterns = [
    path("pledges/", views.index, name="index"),
    path("pledges/new/<slug:slug>/", views.new, name="new"),
    path("pledges/<int:pk>/", views.campaign, name="campaign"),
    path("pledges/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("pledges/<int:pk>/pledgers/", views.pledgers, name="pledgers"),
    # The public page: its code is short, it goes into text messages and onto flyers.
    path("pledges/p/<str:code>/", views.public_page, name="public"),
    path("pledges/p/<str:code>/pledge/", views.member_pledge, name="member_pledge"),
    path("pledges/p/<str:code>/withdraw/", views.member_withdraw, name="member_withdraw"),
]
