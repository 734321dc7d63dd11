from llmaz_serverless.cli import main

raise SystemExit(main())
