from django.urls import path

from . import password_reset, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("two-factor/", views.two_factor_verify_view, name="two_factor_verify"),
    path("two-factor/setup/", views.two_factor_setup_view, name="two_factor_setup"),
    path("two-factor/reset/<str:token>/", views.two_factor_reset_view, name="two_factor_reset"),
    path("two-factor/backup-codes/", views.backup_codes_view, name="backup_codes"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/new/", views.staff_create_view, name="staff_create"),
    path("staff/<int:pk>/", views.staff_edit_view, name="staff_edit"),
    path("staff/<int:pk>/two-factor-reset/", views.staff_two_factor_reset_view, name="staff_two_factor_reset"),
    path("password/reset/", password_reset.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", password_reset.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        password_reset.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", password_reset.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
