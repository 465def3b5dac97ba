from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from access.api import views

app_name = "access-api"

router = SimpleRouter()
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("teams", views.TeamViewSet, basename="team")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
