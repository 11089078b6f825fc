from kpispec.cli import main

main()
