from django.urls import path

from defensa.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/second-step/", views.second_factor, name="second_factor"),
    path("logout/", views.logout_view, name="logout"),
    path("", views.home, name="home"),
    path("security/", views.security, name="security"),
    path("security/password/", views.change_password, name="change_password"),
    path("security/confirm/", views.confirm_password, name="confirm_password"),
    path("security/authenticator/", views.setup_totp, name="setup_totp"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/passkeys/<int:pk>/rename/", views.rename_passkey, name="rename_passkey"),
    path("security/passkeys/<int:pk>/remove/", views.remove_passkey, name="remove_passkey"),
    # JSON endpoints for static/accounts/passkey.js (WebAuthn needs JavaScript).
    path("passkeys/login/options/", views.passkey_login_options, name="passkey_login_options"),
    path("passkeys/login/verify/", views.passkey_login_verify, name="passkey_login_verify"),
    path(
        "passkeys/register/options/",
        views.passkey_register_options,
        name="passkey_register_options",
    ),
    path(
        "passkeys/register/verify/", views.passkey_register_verify, name="passkey_register_verify"
    ),
]
