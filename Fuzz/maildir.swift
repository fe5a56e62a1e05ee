// Fuzz target: the Maildir file-name parser (RelevoStore.MaildirName). Any
// name must parse or throw, never trap; a parsed name is one safe path
// component and its parts are what it is made of.
import RelevoStore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let name = try? MaildirName(parsing: text) else { return 0 }
    precondition(name.name == text)
    precondition(!text.contains("/") && !text.utf8.contains(0) && !text.contains("..") && !text.hasPrefix("."),
                 "unsafe name accepted: \(text.debugDescription)")
    precondition(text.utf8.count <= MaildirName.maximumLength)
    precondition(text.hasPrefix(name.base), "base '\(name.base)' is not a prefix of '\(text)'")
    precondition(name.base.hasPrefix(name.time + "." + name.unique + "." + name.host))
    if let info = name.info { precondition(text == name.base + ":" + info) } else { precondition(text == name.base) }
    return 0
}
