import os

from django.core.asgi import get_asgi_application

from config.gc_tuning import tune_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

# After start-up, so that everything loaded so far is frozen out of the collector's way.
tune_gc()
