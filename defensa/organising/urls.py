from django.urls import path

from defensa.organising import views

app_name = "organising"
urlpatterns = [
    path("organising/", views.index, name="index"),
    path("organising/me/", views.my_history, name="my_history"),
    path("organising/c/<slug:slug>/readiness/", views.readiness, name="readiness"),
    path("organising/c/<slug:slug>/scale/", views.scale, name="scale"),
    path("organising/c/<slug:slug>/workplaces/new/", views.new_workplace, name="new_workplace"),
    path("organising/c/<slug:slug>/tests/new/", views.new_test, name="new_test"),
    path("organising/workplaces/<int:pk>/", views.workplace, name="workplace"),
    path("organising/workplaces/<int:pk>/end/", views.end_campaign, name="end_campaign"),
    path("organising/workplaces/<int:pk>/workers/", views.workers, name="workers"),
    path("organising/workplaces/<int:pk>/workers/add/", views.add_contact, name="add_contact"),
    path("organising/workplaces/<int:pk>/workers/member/", views.add_member, name="add_member"),
    path("organising/workplaces/<int:pk>/workers/<int:worker>/", views.worker, name="worker"),
    path(
        "organising/workplaces/<int:pk>/workers/<int:worker>/assess/",
        views.assess,
        name="assess",
    ),
    path(
        "organising/workplaces/<int:pk>/workers/<int:worker>/leader/",
        views.leader,
        name="leader",
    ),
    path("organising/tests/<int:pk>/", views.test, name="test"),
    path("organising/tests/<int:pk>/workers/", views.test_workers, name="test_workers"),
    path("organising/tests/<int:pk>/links/", views.send_links, name="send_links"),
    path(
        "organising/tests/<int:pk>/workers/<int:worker>/",
        views.take_part,
        name="take_part_record",
    ),
    # A worker's own link: no account; the signed token is the proof (docs/organising.md).
    path("organising/t/<str:token>/", views.take_part_link, name="take_part"),
]
