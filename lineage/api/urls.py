from django.urls import URLPattern, URLResolver, path

from lineage.api import views

app_name = "lineage-api"

# No trailing slashes: OpenLineage clients post to exactly /api/v1/lineage, and a redirect would
# turn their POST into a body-less GET.
urlpatterns: list[URLPattern | URLResolver] = [
    path("lineage", views.LineageView.as_view(), name="lineage"),
    path("lineage/batch", views.LineageBatchView.as_view(), name="lineage-batch"),
    path("column-lineage", views.ColumnLineageView.as_view(), name="column-lineage"),
    path("lineage/impact", views.ImpactView.as_view(), name="impact"),
]
