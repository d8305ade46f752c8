from sipscen.cli import main

raise SystemExit(main())
