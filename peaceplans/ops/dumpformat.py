"""
The "json" format of `dumpdata` and `loaddata` (settings.SERIALIZATION_MODULES), as Django's but
keeping a timestamp's microseconds: Django's encoder cuts them to milliseconds (ECMA-262 style), so
a dump is not a faithful copy (12:00:00.000412 is written "12:00:00.000Z", loaded back as
12:00:00, and dumped again as "12:00:00Z"). With every digit kept, dumpdata -> loaddata -> dumpdata
gives back the same bytes (tests/ops/test_backups.py); Django's loaddata reads either form.
"""

import datetime

from django.core.serializers import json as django_json
from django.utils.timezone import is_aware


class Encoder(django_json.DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time) and not is_aware(o):
            return o.isoformat()
        return super().default(o)


class Serializer(django_json.Serializer):
    def _init_options(self):
        self.options.setdefault("cls", Encoder)
        super()._init_options()  # type: ignore[misc]  # Django's json.Serializer has it; django-stubs omits it


Deserializer = django_json.Deserializer
