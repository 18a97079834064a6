from django.urls import path

from defensa.committees import recovery_views, roster_views, views

app_name = "committees"
urlpatterns = [
    path("", views.my_committees, name="list"),
    path("<slug:slug>/", views.committee_detail, name="detail"),
    path("<slug:slug>/announce/", views.announce, name="announce"),
    path("<slug:slug>/vouch/<int:pk>/", views.vouch, name="vouch"),
    path("<slug:slug>/invitations/", views.invitations, name="invitations"),
    path(
        "<slug:slug>/invitations/<int:pk>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/members/invite-by-text/", views.invite_by_text, name="invite_by_text"),
    path("<slug:slug>/members/<int:pk>/", views.member_detail, name="member"),
    path("<slug:slug>/members/<int:pk>/reveal/", views.reveal_phone, name="reveal_phone"),
    path("<slug:slug>/members/<int:pk>/roles/", views.change_roles, name="roles"),
    path("<slug:slug>/members/<int:pk>/web-link/", views.web_link, name="web_link"),
    path("<slug:slug>/members/<int:pk>/skills/", views.change_skills, name="skills"),
    path("<slug:slug>/members/<int:pk>/deactivate/", views.deactivate, name="deactivate"),
    path("<slug:slug>/switched-off/", views.switched_off, name="switched_off"),
    path(
        "<slug:slug>/switched-off/<int:pk>/reactivate/",
        views.request_reactivation,
        name="request_reactivation",
    ),
    path("<slug:slug>/role-requests/", views.role_requests, name="role_requests"),
    path(
        "<slug:slug>/role-requests/<int:pk>/<str:verb>/",
        views.decide_role,
        name="decide_role",
    ),
    path("<slug:slug>/recovery/", recovery_views.committee_requests, name="recovery_requests"),
    path(
        "<slug:slug>/recovery/<int:pk>/<str:verb>/",
        recovery_views.committee_decide,
        name="decide_recovery",
    ),
    path("<slug:slug>/roster/", roster_views.roster, name="roster"),
    path("<slug:slug>/roster/now/", roster_views.on_now, name="on_now"),
    path("<slug:slug>/roster/assign/", roster_views.assign, name="assign_shift"),
    path(
        "<slug:slug>/roster/shifts/<int:pk>/remove/",
        roster_views.unassign,
        name="unassign_shift",
    ),
    path(
        "<slug:slug>/roster/swaps/<int:pk>/<str:verb>/",
        roster_views.decide_swap,
        name="decide_swap",
    ),
]
