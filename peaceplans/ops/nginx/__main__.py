import sys

from peaceplans.ops.nginx.render import main

sys.exit(main())
