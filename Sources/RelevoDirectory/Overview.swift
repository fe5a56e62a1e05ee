// RelevoDirectory: an LDAP directory in pure Swift, for dry runs and for the
// escaping the live driver needs.
//
// - `DistinguishedName` (RFC 4514): parse, compare (case-insensitively, see
//   its documentation), navigate (`parent`, `isDescendant(of:)`), and
//   `DistinguishedName.escape(value:)` for values from data.
// - `LDAPFilter` (RFC 4515): parse to a syntax tree with positioned errors,
//   write back (`description`), `LDAPFilter.escape(value:)`, and
//   `matches(_:)` against an `Entry`.
// - `MatchingRules`: the one equality/ordering/substring rule every
//   comparison uses (caseIgnoreMatch-like; the directory has no schema).
// - `Entry`, `Attribute`, `AttributeValue`: entries with ordered attributes
//   whose values are bytes, so binary values survive.
// - `LDIFReader` / `LDIFWriter` (RFC 2849): content and change records
//   (`LDIFRecord`), errors as `LDIFError` values with line and column,
//   `LDIFLimits` against hostile input; `attr:< URL` is always refused.
// - `MemoryDirectory`: a value-type directory with search, add, delete,
//   modify, rename (modrdn), compare, `apply(_:)` for LDIF change records
//   and `export()`; failures are `DirectoryError`s named after LDAP result
//   codes.
//
// The module imports only RelevoBasics (for `SourceLocation`), not Foundation.
