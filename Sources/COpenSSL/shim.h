// OpenSSL's libcrypto (libssl-dev): the EVP digest interface, for SHA-256
// with the processor's SHA instructions where it has them.
#include <openssl/evp.h>
