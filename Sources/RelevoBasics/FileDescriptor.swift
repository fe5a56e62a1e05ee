import Glibc

/// Writing to a file descriptor without Foundation.
public enum FileDescriptor {
    /// Writes all of `bytes` to `fd`, again after a short write or an
    /// interrupted call (EINTR). nil once all is written; otherwise the
    /// `errno` of the write that failed.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += count
        }
        return nil
    }

    /// `writeAll` of the UTF-8 of `text`.
    public static func writeAll(_ fd: Int32, _ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
