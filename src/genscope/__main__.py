from genscope.cli import main

raise SystemExit(main())
