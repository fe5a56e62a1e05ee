// C arrays handed to libldap: built from Swift values, freed in deinit.
// Nothing here escapes the module.
internal import CLDAP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RelevoDirectory

/// A NULL-terminated `char **` of copies of `strings` (attribute lists).
final class CStringArray {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (i, string) in strings.enumerated() { pointer[i] = strdup(string) }
        pointer[strings.count] = nil
    }

    deinit {
        for i in 0..<count { free(pointer[i]) }
        pointer.deallocate()
    }
}

/// Copies `bytes` into a new `berval` (`bv_val` never NULL, even when empty).
/// Free with `freeBerval`, which zeroes the copy first: values may be
/// password hashes.
func makeBerval(_ bytes: [UInt8]) -> UnsafeMutablePointer<berval> {
    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
    bytes.withUnsafeBytes { source in
        if let base = source.baseAddress { memcpy(buffer, base, bytes.count) }
    }
    let value = UnsafeMutablePointer<berval>.allocate(capacity: 1)
    value.initialize(to: berval(bv_len: ber_len_t(bytes.count), bv_val: buffer))
    return value
}

func freeBerval(_ value: UnsafeMutablePointer<berval>) {
    if let buffer = value.pointee.bv_val {
        memset(buffer, 0, max(Int(value.pointee.bv_len), 1))
        buffer.deallocate()
    }
    value.deallocate()
}

/// The bytes of a `berval` libldap returned.
func bytes(of value: berval) -> [UInt8] {
    guard let base = value.bv_val, value.bv_len > 0 else { return [] }
    return base.withMemoryRebound(to: UInt8.self, capacity: Int(value.bv_len)) {
        Array(UnsafeBufferPointer(start: $0, count: Int(value.bv_len)))
    }
}

/// A NULL-terminated `LDAPMod **` for `ldap_modify_ext_s` and
/// `ldap_add_ext_s`, values as bervals (`LDAP_MOD_BVALUES`), so binary
/// values pass unchanged. `values == nil` sends no value list (delete or
/// replace the whole attribute).
final class ModList {
    struct Item {
        var operation: Int32
        var attribute: String
        var values: [AttributeValue]?
    }

    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<LDAPMod>?>
    private var mods: [UnsafeMutablePointer<LDAPMod>] = []

    init(_ items: [Item]) {
        pointer = .allocate(capacity: items.count + 1)
        for (i, item) in items.enumerated() {
            var list: UnsafeMutablePointer<UnsafeMutablePointer<berval>?>? = nil
            if let values = item.values {
                let array = UnsafeMutablePointer<UnsafeMutablePointer<berval>?>.allocate(capacity: values.count + 1)
                for (j, value) in values.enumerated() { array[j] = makeBerval(value.bytes) }
                array[values.count] = nil
                list = array
            }
            let mod = UnsafeMutablePointer<LDAPMod>.allocate(capacity: 1)
            mod.initialize(to: LDAPMod(mod_op: item.operation | LDAP_MOD_BVALUES,
                                       mod_type: strdup(item.attribute),
                                       mod_vals: .init(modv_bvals: list)))
            mods.append(mod)
            pointer[i] = mod
        }
        pointer[items.count] = nil
    }

    deinit {
        for mod in mods {
            free(mod.pointee.mod_type)
            if let list = mod.pointee.mod_vals.modv_bvals {
                var j = 0
                while let value = list[j] { freeBerval(value); j += 1 }
                list.deallocate()
            }
            mod.deinitialize(count: 1)
            mod.deallocate()
        }
        pointer.deallocate()
    }
}

/// A string libldap allocated, copied and freed with `ldap_memfree`.
func takeLDAPString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { ldap_memfree(pointer) }
    return String(cString: pointer)
}
