/// The one place that says which Relevo this is.
public enum RelevoVersion {
    /// Printed by `relevo --version` and written into SARIF and JSON reports.
    public static let version = "0.1.0"
    /// Where the tool is documented; SARIF's `tool.driver.informationUri`.
    /// Replace with the project's public address once it has one.
    public static let informationURI = "https://relevo.invalid/docs/cli"
}
