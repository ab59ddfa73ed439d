"""`python -m loadtest`: the load generator's own process (see loadtest.engine)."""

from gevent import monkey

monkey.patch_all()  # before anything imports socket or ssl; Locust would do it at import too

import sys  # noqa: E402

from loadtest.generator_process import exit_with_parent  # noqa: E402

exit_with_parent()  # before Locust's imports: a parent killed meanwhile leaves no load behind

from loadtest.engine import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
