import Foundation

/// Durations and sizes for people: `224 ms`, `3.7 s`, `5m05s`, `508.5 KB`.
public enum Units {
    public static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        let s = Int(seconds.rounded())
        return s < 7200 ? String(format: "%dm%02ds", s / 60, s % 60) : String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    /// Decimal units (1 KB = 1000 bytes).
    public static func bytes(_ n: Int64) -> String {
        if n < 1000 { return "\(n) B" }
        if n < 1_000_000 { return String(format: "%.1f KB", Double(n) / 1e3) }
        if n < 1_000_000_000 { return String(format: "%.1f MB", Double(n) / 1e6) }
        return String(format: "%.2f GB", Double(n) / 1e9)
    }
}
