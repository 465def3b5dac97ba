from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import extend_schema
from rest_framework.routers import DefaultRouter

from registry.api import views

app_name = "registry-api"

router = DefaultRouter()
router.register("ai-systems", views.AISystemViewSet, basename="ai-system")
router.register("system-components", views.SystemComponentViewSet, basename="system-component")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("dataset-versions", views.DatasetVersionViewSet, basename="dataset-version")
router.register("generators", views.SyntheticGeneratorViewSet, basename="generator")
router.register("generator-versions", views.GeneratorVersionViewSet, basename="generator-version")
router.register("models", views.ModelViewSet, basename="model")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("prompts", views.PromptViewSet, basename="prompt")
router.register("prompt-versions", views.PromptVersionViewSet, basename="prompt-version")
router.register("tags", views.TagViewSet, basename="tag")


@extend_schema(exclude=True)
class SlashedSearchView(views.SearchView):
    """The same search at ``search/``, for clients that add the trailing slash."""


urlpatterns: list[URLPattern | URLResolver] = [
    path("search", views.SearchView.as_view(), name="search"),
    path("search/", SlashedSearchView.as_view()),
    *router.urls,
]
