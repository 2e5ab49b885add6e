from django.conf import settings


def site(request):
    """The featured plan's slug, for the header's navigation on every page."""
    return {"featured_plan_slug": settings.FEATURED_PLAN}
