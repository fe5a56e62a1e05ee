// Fuzz target: the LDAP filter parser (RFC 4515, RelevoDirectory.LDAPFilter).
// Any string must parse or throw one LDAPFilterError, never trap; a parsed
// filter printed again must parse back to the same filter.
import RelevoDirectory

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let filter = try? LDAPFilter(text) else { return 0 }
    let printed = filter.description
    do {
        let again = try LDAPFilter(printed)
        precondition(again == filter, "'\(text)' printed as '\(printed)' parses to another filter")
    } catch {
        preconditionFailure("'\(text)' printed as '\(printed)', which does not parse: \(error)")
    }
    return 0
}
