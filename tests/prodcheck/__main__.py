import sys

from tests.prodcheck.run import main

sys.exit(main())
