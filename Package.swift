// swift-tools-version:6.0
// Relevo: compile, rehearse and run zero-downtime migration plans.
// No outside Swift package: the toolchain plus Debian's C libraries only.
import PackageDescription

let package = Package(
    name: "Relevo",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "relevo", targets: ["relevo"]),
        .library(name: "RelevoCheck", targets: ["RelevoCheck"]),
    ],
    targets: [
        // C libraries from Debian, exposed to Swift (see docs/architecture.md).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap",
                       providers: [.apt(["libldap2-dev"])]),
        .systemLibrary(name: "CSSH2", pkgConfig: "libssh2",
                       providers: [.apt(["libssh2-1-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CGraphviz", pkgConfig: "libgvc",
                       providers: [.apt(["libgraphviz-dev"])]),
        .systemLibrary(name: "CPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        // Plain C functions for what Swift cannot call: variadic functions and
        // function-like macros of libcurl and libssh2.
        .target(name: "CRelevoShim", dependencies: ["CCurl", "CSSH2"]),

        // Library targets: all the work happens here.
        .target(name: "RelevoBasics"),
        .target(name: "RelevoYAML", dependencies: ["RelevoBasics", "CYAML"]),
        .target(name: "RelevoPlan", dependencies: ["RelevoBasics"]),
        .target(name: "RelevoCheck", dependencies: ["RelevoBasics", "RelevoYAML", "RelevoPlan"]),
        .target(name: "RelevoLint", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoCheck"]),
        .target(name: "RelevoDirectory", dependencies: ["RelevoBasics"]),
        .target(name: "RelevoStore", dependencies: ["RelevoBasics"]),
        .target(name: "RelevoEngine", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoCheck"]),
        .target(name: "RelevoJournal", dependencies: ["RelevoBasics", "RelevoEngine", "CSQLite"]),
        .target(name: "RelevoPostgres", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoEngine", "RelevoJournal", "CPQ"]),
        .target(name: "RelevoLDAP", dependencies: ["RelevoBasics", "RelevoDirectory", "CLDAP"]),
        .target(name: "RelevoSSH", dependencies: ["RelevoBasics", "CSSH2", "CRelevoShim"]),
        .target(name: "RelevoMail", dependencies: ["RelevoBasics", "CCurl", "CRelevoShim"]),
        .target(name: "RelevoLive", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoEngine", "RelevoOperations",
                                                   "RelevoDirectory", "RelevoStore", "RelevoLDAP", "RelevoSSH",
                                                   "RelevoMail"]),
        .target(name: "RelevoOperations", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoEngine",
                                                         "RelevoDirectory", "RelevoStore"]),
        .target(name: "RelevoSimulation", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoCheck", "RelevoEngine",
                                                         "RelevoDirectory", "RelevoStore", "RelevoOperations"]),
        .target(name: "RelevoReport", dependencies: ["RelevoBasics", "RelevoPlan", "RelevoCheck", "RelevoLint",
                                                     "RelevoEngine", "RelevoJournal", "CGraphviz"]),
        .target(name: "RelevoCLI", dependencies: ["RelevoBasics", "RelevoYAML", "RelevoPlan",
                                                  "RelevoCheck", "RelevoLint", "RelevoEngine", "RelevoJournal", "RelevoPostgres", "RelevoReport",
                                                  "RelevoSimulation", "RelevoOperations", "RelevoStore", "RelevoLive"]),
        // The real-time test's load generator and census (scripts/realtime-test).
        .target(name: "RelevoRealtime", dependencies: ["RelevoBasics", "RelevoMail", "RelevoStore"]),
        // The executable is a few lines calling RelevoCLI.
        .executableTarget(name: "relevo", dependencies: ["RelevoCLI"]),
        .executableTarget(name: "relevo-realtime", dependencies: ["RelevoRealtime", "RelevoMail", "RelevoPlan", "RelevoBasics"]),

        .testTarget(name: "RelevoYAMLTests", dependencies: ["RelevoYAML", "RelevoBasics"]),
        .testTarget(name: "RelevoCheckTests", dependencies: ["RelevoCheck", "RelevoPlan", "RelevoBasics", "RelevoYAML"]),
        .testTarget(name: "RelevoLintTests", dependencies: ["RelevoLint", "RelevoCheck", "RelevoPlan", "RelevoBasics"]),
        .testTarget(name: "RelevoCLITests", dependencies: ["RelevoCLI", "RelevoCheck", "RelevoLint", "RelevoBasics", "RelevoReport",
                                                       "TestbedSupport"],
                    exclude: ["Golden"]),
        .testTarget(name: "RelevoDirectoryTests", dependencies: ["RelevoDirectory", "RelevoBasics"]),
        .testTarget(name: "RelevoStoreTests", dependencies: ["RelevoStore", "RelevoBasics"]),
        .testTarget(name: "RelevoEngineTests", dependencies: ["RelevoEngine", "RelevoCheck", "RelevoPlan"]),
        .testTarget(name: "RelevoSimulationTests", dependencies: ["RelevoBasics", "RelevoSimulation", "RelevoOperations", "RelevoEngine", "RelevoJournal", "RelevoPlan",
                                                                  "RelevoCheck", "RelevoDirectory", "RelevoStore"]),
        .testTarget(name: "RelevoReportTests", dependencies: ["RelevoReport", "RelevoCheck", "RelevoPlan", "RelevoJournal", "RelevoEngine"]),
        .testTarget(name: "RelevoJournalTests", dependencies: ["RelevoJournal", "RelevoEngine", "RelevoBasics"]),
        .testTarget(name: "RelevoRealtimeTests", dependencies: ["RelevoRealtime"]),
        .testTarget(name: "JournalConformanceTests", dependencies: ["RelevoJournal", "RelevoPostgres", "RelevoEngine",
                                                                    "TestbedSupport"]),
        .testTarget(name: "RelevoPostgresTests", dependencies: ["RelevoPostgres", "RelevoJournal", "RelevoEngine", "TestbedSupport"]),
        .target(name: "TestbedSupport", path: "Tests/TestbedSupport"),
        .testTarget(name: "TestbedTests", dependencies: ["TestbedSupport"]),
        .testTarget(name: "RelevoLDAPTests", dependencies: ["RelevoLDAP", "RelevoDirectory", "RelevoBasics", "TestbedSupport"]),
        .testTarget(name: "RelevoLiveTests", dependencies: ["RelevoBasics", "RelevoLive", "RelevoJournal", "RelevoEngine", "RelevoStore", "RelevoSSH",
                                                            "TestbedSupport"]),
        .testTarget(name: "RelevoSSHTests", dependencies: ["RelevoSSH", "RelevoBasics", "TestbedSupport"]),
        .testTarget(name: "RelevoMailTests", dependencies: ["RelevoMail", "RelevoBasics", "TestbedSupport"]),
        .testTarget(name: "ExamplesTests", dependencies: ["RelevoCheck", "RelevoLint", "RelevoBasics"]),
        .testTarget(name: "NativeLibrariesTests",
                    dependencies: ["CYAML", "CLDAP", "CSSH2", "CCurl", "CSQLite", "CGraphviz", "CPQ", "CRelevoShim"]),
    ]
)
