from ebutool.cli import main

main()
