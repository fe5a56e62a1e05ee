// The relevo command line lives in RelevoCLI; see Relevo.main.
public enum Relevo {
    public static func main() -> Never { exit(0) }
}
import Foundation
