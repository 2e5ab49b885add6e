"""
The production front: nginx in front of the app servers (issue 19, item 2). peaceplans.conf.in and
site.conf.in are the site file's template, errors/ the pages nginx answers its own errors with, and
render.py fills the template in from the app's settings (`python -m peaceplans.ops.nginx --help`).
docs/operations.md, "The front: nginx", says how to install it.
"""
