import RelevoCLI

Relevo.main()
