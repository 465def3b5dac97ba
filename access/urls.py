from django.urls import URLPattern, URLResolver, path

from access import views

app_name = "access"

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.api_token_list, name="token_list"),
    path("tokens/<uuid:uuid>/revoke/", views.ApiTokenRevokeView.as_view(), name="token_revoke"),
]
