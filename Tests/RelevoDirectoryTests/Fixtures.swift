@testable import RelevoDirectory

/// Test data: the source document's user entry and a small directory.
enum Fixtures {
    /// The user entry exactly as the thesis prints it.
    static let ceres = """
        dn: uid=ceres,dc=eXalumno,dc=unam,dc=mx
        uid: ceres
        cn: usuario prueba
        sn: prueba
        objectClass: top
        objectClass: person
        objectClass: inetOrgPerson
        objectClass: qmailuser
        userPassword: ceres
        mail: ceres@eXalumno.unam.mx
        mailQuota: 10000000S,5000000C
        mailMessageStore: /home1/maildirs/ceres/
        mailHost: Xalumno.servidores.unam.mx

        """

    static let suffix = """
        dn: dc=exalumno,dc=unam,dc=mx
        objectClass: top
        objectClass: dcObject
        objectClass: organization
        dc: exalumno
        o: Exalumnos UNAM

        """

    static func user(_ uid: String, host: String, quota: String = "10000000S,5000000C") -> String {
        """
        dn: uid=\(uid),dc=exalumno,dc=unam,dc=mx
        uid: \(uid)
        cn: usuario \(uid)
        sn: \(uid)
        objectClass: top
        objectClass: person
        objectClass: inetOrgPerson
        objectClass: qmailUser
        mail: \(uid)@exalumno.unam.mx
        mailQuota: \(quota)
        mailMessageStore: /home1/maildirs/\(uid)/
        mailHost: \(host)

        """
    }

    /// The suffix, ceres (on xalumno) and four users, three of them on neon.
    static let directoryLDIF = "version: 1\n\n" + suffix + "\n" + ceres + "\n"
        + user("ana", host: "neon.servidores.unam.mx") + "\n"
        + user("beto", host: "Neon.Servidores.UNAM.mx") + "\n"
        + user("carla", host: "xalumno.servidores.unam.mx") + "\n"
        + user("dario", host: "neon.servidores.unam.mx")

    static func directory() throws -> MemoryDirectory {
        try MemoryDirectory(ldif: directoryLDIF)
    }

    static func dn(_ s: String) -> DistinguishedName {
        (try? DistinguishedName(s)) ?? .root
    }
}
