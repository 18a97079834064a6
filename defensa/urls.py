from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("defensa.pages.urls")),
    path("", include("defensa.reports.urls")),
    path("", include("defensa.incidents.urls")),
    path("accounts/", include("defensa.accounts.urls")),
    path("committees/", include("defensa.committees.urls")),
    path("notify/", include("defensa.notify.urls")),
    path("", include("defensa.dispatch.urls")),
    path("", include("defensa.subscribers.urls")),
    path("", include("defensa.record.urls")),
    path("join/", include("defensa.committees.join_urls")),
    path("recover/", include("defensa.committees.recover_urls")),
    path("", include("defensa.cases.plan_urls")),
    path("me/", include("defensa.committees.me_urls")),
    path("network/", include("defensa.committees.network_urls")),
    path("broadcasts/", include("defensa.broadcasts.urls")),
    path("voice/", include("defensa.voice.urls")),
    path("cases/", include("defensa.cases.urls")),
    path("", include("defensa.accompaniment.urls")),
    path("", include("defensa.pledges.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("defensa.ops.urls")),
    path("", include("defensa.notify.transports.webpush.urls")),
    path("", include("defensa.demo.urls")),
]
