// The LDAP driver on libldap: see docs/architecture.md.
import RelevoBasics
