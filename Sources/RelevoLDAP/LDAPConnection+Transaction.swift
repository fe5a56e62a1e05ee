internal import CLDAP
import Foundation
import RelevoDirectory

extension LDAPConnection {
    /// Applies the modifications of each item to its entry inside one LDAP
    /// transaction (RFC 5805), which the server commits all at once, with
    /// one write (slapd's back-mdb: one sync instead of one per entry);
    /// then reads each entry back and checks it as `modifyAndReadBack`
    /// does. A transaction is all or nothing: when the server refuses to
    /// start one, refuses a change in it or fails the commit, nothing of it
    /// is applied and this returns nil, so that the caller modifies each
    /// entry on its own and meets each one's answer. A lost connection is
    /// an error (`cannotConnect`): whether the commit happened is then
    /// unknown, as for any write, and the caller reads the state back.
    ///
    /// - Returns: per item, the entry as read back or the read-back error
    ///   (the modification itself was committed); nil when nothing was.
    public func modifyInTransaction(_ items: [(dn: DistinguishedName, modifications: [Modification])])
        throws(LDAPError) -> [Result<Entry, LDAPError>]? {
        guard !items.isEmpty else { return [] }
        let lists = try items.map { item throws(LDAPError) in (dn: item.dn.description, mods: try modList(item.dn, item.modifications)) }
        return try locked { () throws(LDAPError) -> [Result<Entry, LDAPError>]? in
            clearDiagnostics()
            var identifier: UnsafeMutablePointer<berval>?
            let started = ldap_txn_start_s(handle, nil, nil, &identifier)
            guard started == LDAP_SUCCESS, let identifier else {
                if let identifier { ber_bvfree(identifier) }
                if Self.isConnectionLoss(started) { throw failure(started, .modify, detail: "starting a transaction") }
                return nil
            }
            defer { ber_bvfree(identifier) }
            let oid = strdup(Self.transactionSpecification)
            defer { free(oid) }
            var control = LDAPControl(ldctl_oid: oid, ldctl_value: identifier.pointee, ldctl_iscritical: 1)
            var queued = true
            try withUnsafeMutablePointer(to: &control) { pointer throws(LDAPError) in
                var controls: [UnsafeMutablePointer<LDAPControl>?] = [pointer, nil]
                for (dn, mods) in lists {
                    let rc = ldap_modify_ext_s(handle, dn, mods.pointer, &controls, nil)
                    if Self.isConnectionLoss(rc) { throw failure(rc, .modify, dn: dn) }
                    // slapd answers a queued change with "specify okay".
                    guard rc == LDAP_SUCCESS || rc == Self.transactionSpecifyOkay else {
                        queued = false
                        break
                    }
                }
            }
            var failed: Int32 = 0
            let ended = ldap_txn_end_s(handle, queued ? 1 : 0, identifier, nil, nil, &failed)
            if Self.isConnectionLoss(ended) { throw failure(ended, .modify, detail: "ending a transaction") }
            guard queued, ended == LDAP_SUCCESS else { return nil }
            return try readBackMany(items)
        }
    }

    /// The transaction specification control (RFC 5805, `LDAP_CONTROL_TXN_SPEC`).
    static let transactionSpecification = "1.3.6.1.1.21.2"
    /// The result code slapd gives a change queued in a transaction
    /// (`LDAP_TXN_SPECIFY_OKAY`).
    static let transactionSpecifyOkay: Int32 = 0x4120

    /// Whether result code `rc` means the connection is gone or did not answer.
    static func isConnectionLoss(_ rc: Int32) -> Bool {
        rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR
    }
}
