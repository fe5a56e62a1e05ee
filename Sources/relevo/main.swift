// The relevo executable: all of it lives in RelevoCLI.
import RelevoCLI

Relevo.main()
