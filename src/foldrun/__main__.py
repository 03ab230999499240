from foldrun.cli import main

main()
