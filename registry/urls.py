"""The registry pages. Public URLs carry the object's UUID, never its primary key."""

from django.urls import URLPattern, URLResolver, path
from django.views import View

from registry import views
from registry.views import mlflow as mlflow_views

app_name = "registry"
ViewClass = type[View]


def asset_urls(
    prefix: str,
    key: str,
    list_view: ViewClass,
    create: ViewClass,
    detail: ViewClass,
    update: ViewClass,
    delete: ViewClass,
) -> list[URLPattern]:
    return [
        path(f"{prefix}/", list_view.as_view(), name=f"{key}_list"),
        path(f"{prefix}/new/", create.as_view(), name=f"{key}_create"),
        path(f"{prefix}/<uuid:uuid>/", detail.as_view(), name=f"{key}_detail"),
        path(f"{prefix}/<uuid:uuid>/edit/", update.as_view(), name=f"{key}_edit"),
        path(f"{prefix}/<uuid:uuid>/delete/", delete.as_view(), name=f"{key}_delete"),
    ]


def version_urls(
    asset_prefix: str, prefix: str, key: str, create: ViewClass, detail: ViewClass, edit: ViewClass, delete: ViewClass
) -> list[URLPattern]:
    return [
        path(f"{asset_prefix}/<uuid:uuid>/versions/new/", create.as_view(), name=f"{key}_create"),
        path(f"{prefix}/<uuid:uuid>/", detail.as_view(), name=f"{key}_detail"),
        path(f"{prefix}/<uuid:uuid>/edit/", edit.as_view(), name=f"{key}_edit"),
        path(f"{prefix}/<uuid:uuid>/delete/", delete.as_view(), name=f"{key}_delete"),
    ]


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("approvals/", views.ApprovalListView.as_view(), name="approvals"),
    # AI systems and their components.
    *asset_urls(
        "systems",
        "system",
        views.AISystemListView,
        views.AISystemCreateView,
        views.AISystemDetailView,
        views.AISystemUpdateView,
        views.AISystemDeleteView,
    ),
    path("systems/<uuid:uuid>/components/new/", views.SystemComponentAddView.as_view(), name="component_add"),
    path(
        "systems/<uuid:uuid>/components/<uuid:component>/remove/",
        views.SystemComponentRemoveView.as_view(),
        name="component_remove",
    ),
    # Datasets.
    *asset_urls(
        "datasets",
        "dataset",
        views.DatasetListView,
        views.DatasetCreateView,
        views.DatasetDetailView,
        views.DatasetUpdateView,
        views.DatasetDeleteView,
    ),
    *version_urls(
        "datasets",
        "dataset-versions",
        "datasetversion",
        views.DatasetVersionCreateView,
        views.DatasetVersionDetailView,
        views.DatasetVersionEditView,
        views.DatasetVersionDeleteView,
    ),
    # Synthetic-data generators.
    *asset_urls(
        "generators",
        "generator",
        views.SyntheticGeneratorListView,
        views.SyntheticGeneratorCreateView,
        views.SyntheticGeneratorDetailView,
        views.SyntheticGeneratorUpdateView,
        views.SyntheticGeneratorDeleteView,
    ),
    *version_urls(
        "generators",
        "generator-versions",
        "generatorversion",
        views.GeneratorVersionCreateView,
        views.GeneratorVersionDetailView,
        views.GeneratorVersionEditView,
        views.GeneratorVersionDeleteView,
    ),
    # Models, their versions and lifecycle.
    *asset_urls(
        "models",
        "model",
        views.ModelListView,
        views.ModelCreateView,
        views.ModelDetailView,
        views.ModelUpdateView,
        views.ModelDeleteView,
    ),
    *version_urls(
        "models",
        "model-versions",
        "modelversion",
        views.ModelVersionCreateView,
        views.ModelVersionDetailView,
        views.ModelVersionEditView,
        views.ModelVersionDeleteView,
    ),
    path(
        "model-versions/<uuid:uuid>/transition/",
        views.ModelVersionTransitionView.as_view(),
        name="modelversion_transition",
    ),
    # Prompts, their versions, aliases and diffs.
    *asset_urls(
        "prompts",
        "prompt",
        views.PromptListView,
        views.PromptCreateView,
        views.PromptDetailView,
        views.PromptUpdateView,
        views.PromptDeleteView,
    ),
    *version_urls(
        "prompts",
        "prompt-versions",
        "promptversion",
        views.PromptVersionCreateView,
        views.PromptVersionDetailView,
        views.PromptVersionEditView,
        views.PromptVersionDeleteView,
    ),
    path("prompts/<uuid:uuid>/diff/", views.PromptDiffView.as_view(), name="prompt_diff"),
    path("prompts/<uuid:uuid>/aliases/", views.PromptAliasSetView.as_view(), name="promptalias_set"),
    path(
        "prompts/<uuid:uuid>/aliases/<slug:name>/delete/",
        views.PromptAliasDeleteView.as_view(),
        name="promptalias_delete",
    ),
    # MLflow servers to import from (settings).
    path("mlflow/", mlflow_views.MlflowServerListView.as_view(), name="mlflowserver_list"),
    path("mlflow/new/", mlflow_views.MlflowServerFormView.as_view(), name="mlflowserver_create"),
    path("mlflow/<uuid:uuid>/", mlflow_views.MlflowServerDetailView.as_view(), name="mlflowserver_detail"),
    path("mlflow/<uuid:uuid>/edit/", mlflow_views.MlflowServerFormView.as_view(), name="mlflowserver_edit"),
    path("mlflow/<uuid:uuid>/sync/", mlflow_views.MlflowServerSyncView.as_view(), name="mlflowserver_sync"),
]
