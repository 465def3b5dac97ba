"""The lineage pages. Datasets and jobs are named by their OpenLineage node id in ``?node=``."""

from django.urls import URLPattern, URLResolver, path

from lineage import views

app_name = "lineage"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("graph/", views.GraphView.as_view(), name="graph"),
    path("graph.svg", views.GraphSvgView.as_view(), name="graph_svg"),
    path("graph/node/", views.NodeDetailsView.as_view(), name="node"),
    path("datasets/", views.DatasetListView.as_view(), name="dataset_list"),
    path("dataset/", views.DatasetDetailView.as_view(), name="dataset"),
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("job/", views.JobDetailView.as_view(), name="job"),
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path("runs/<uuid:uuid>/", views.RunDetailView.as_view(), name="run_detail"),
    path("events/", views.EventListView.as_view(), name="event_list"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="event_detail"),
    path("impact/", views.ImpactView.as_view(), name="impact"),
]
