from officemine.cli import main

main()
