from django.urls import URLPattern, URLResolver, path, re_path

from lineage.api import read_views, views

app_name = "lineage-api"

# Namespace, dataset and job names contain "/" and ":" (postgres://host:5432, s3://bucket +
# path/to/file.csv), and Django decodes %2F before routing, so these patterns split on the literal
# /datasets/, /jobs/, /versions and /runs segments; the namespace is the shortest prefix that fits.
NS = r"(?P<namespace>.+?)"

# No trailing slashes: OpenLineage clients post to exactly /api/v1/lineage, and a redirect would
# turn their POST into a body-less GET. Marquez's read paths have none either.
urlpatterns: list[URLPattern | URLResolver] = [
    path("lineage", views.LineageView.as_view(), name="lineage"),
    path("lineage/batch", views.LineageBatchView.as_view(), name="lineage-batch"),
    path("lineage/links", read_views.RegistryLinkListView.as_view(), name="link-list"),
    path("lineage/links/<uuid:link_id>", read_views.RegistryLinkDetailView.as_view(), name="link-detail"),
    path("lineage/impact", views.ImpactView.as_view(), name="impact"),
    path("column-lineage", views.ColumnLineageView.as_view(), name="column-lineage"),
    path("namespaces", read_views.NamespaceListView.as_view(), name="namespace-list"),
    re_path(
        rf"^namespaces/{NS}/datasets/(?P<dataset>.+)/versions$",
        read_views.DatasetVersionListView.as_view(),
        name="dataset-version-list",
    ),
    re_path(rf"^namespaces/{NS}/datasets/(?P<dataset>.+)$", read_views.DatasetDetailView.as_view(), name="dataset"),
    re_path(rf"^namespaces/{NS}/datasets$", read_views.DatasetListView.as_view(), name="dataset-list"),
    re_path(rf"^namespaces/{NS}/jobs/(?P<job>.+)/runs$", read_views.JobRunListView.as_view(), name="job-run-list"),
    re_path(rf"^namespaces/{NS}/jobs/(?P<job>.+)$", read_views.JobDetailView.as_view(), name="job"),
    re_path(rf"^namespaces/{NS}/jobs$", read_views.JobListView.as_view(), name="job-list"),
    re_path(r"^namespaces/(?P<namespace>.+)$", read_views.NamespaceDetailView.as_view(), name="namespace"),
    path("jobs/runs/<uuid:run_id>", read_views.RunDetailView.as_view(), name="run"),
    path("runs", read_views.RunListView.as_view(), name="run-list"),
    path("events/lineage", read_views.RawEventListView.as_view(), name="event-list"),
    path("events/lineage/<int:event_id>", read_views.RawEventDetailView.as_view(), name="event"),
]
