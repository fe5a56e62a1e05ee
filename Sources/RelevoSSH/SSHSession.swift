// The SSH driver on libssh2: see docs/architecture.md.
import RelevoBasics
