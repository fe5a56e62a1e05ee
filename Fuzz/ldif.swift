// Fuzz target: the LDIF reader (RelevoDirectory.LDIFReader). Any bytes must
// give records or one LDIFError, never a trap; what it accepts must be
// written again by LDIFWriter and read back to the same records.
import RelevoDirectory

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let reader = LDIFReader(limits: LDIFLimits(maxLineLength: 4096, maxRecords: 64, maxValueSize: 4096))
    guard let records = try? reader.read(bytes: bytes) else { return 0 }
    let written = LDIFWriter().write(records)
    do {
        let again = try LDIFReader().read(written)
        precondition(again == records, "LDIF round trip changed the records:\n\(written)")
    } catch {
        preconditionFailure("LDIFWriter wrote what LDIFReader refuses (\(error)):\n\(written)")
    }
    return 0
}
