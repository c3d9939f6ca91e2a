from ebutool.cli.app import main

main()
