/*
 * relevo_shim.c: one-line forwarders, see include/relevo_shim.h.
 * No logic here beyond calling the variadic function or expanding the macro.
 */
#include "relevo_shim.h"

#include <string.h>

/* ---- libcurl ------------------------------------------------------------- */

CURLcode relevo_curl_easy_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

CURLcode relevo_curl_easy_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

CURLcode relevo_curl_easy_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

CURLcode relevo_curl_easy_setopt_off_t(CURL *curl, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}

CURLcode relevo_curl_easy_setopt_write_callback(CURL *curl, CURLoption option,
                                                curl_write_callback callback) {
    return curl_easy_setopt(curl, option, callback);
}

CURLcode relevo_curl_easy_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}

CURLcode relevo_curl_easy_getinfo_double(CURL *curl, CURLINFO info, double *value) {
    return curl_easy_getinfo(curl, info, value);
}

CURLcode relevo_curl_easy_getinfo_off_t(CURL *curl, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(curl, info, value);
}

CURLcode relevo_curl_easy_getinfo_string(CURL *curl, CURLINFO info, char **value) {
    return curl_easy_getinfo(curl, info, value);
}

/* ---- libssh2 ------------------------------------------------------------- */

LIBSSH2_SESSION *relevo_libssh2_session_init(void) {
    return libssh2_session_init();
}

int relevo_libssh2_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect(session, description);
}

int relevo_libssh2_userauth_password(LIBSSH2_SESSION *session, const char *username,
                                     const char *password) {
    return libssh2_userauth_password(session, username, password);
}

int relevo_libssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *session,
                                               const char *username,
                                               const char *publickey,
                                               const char *privatekey,
                                               const char *passphrase) {
    return libssh2_userauth_publickey_fromfile(session, username, publickey,
                                               privatekey, passphrase);
}

LIBSSH2_CHANNEL *relevo_libssh2_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_session(session);
}

int relevo_libssh2_channel_exec(LIBSSH2_CHANNEL *channel, const char *command) {
    return libssh2_channel_exec(channel, command);
}

ssize_t relevo_libssh2_channel_read(LIBSSH2_CHANNEL *channel, char *buf, size_t buflen) {
    return libssh2_channel_read(channel, buf, buflen);
}

ssize_t relevo_libssh2_channel_read_stderr(LIBSSH2_CHANNEL *channel, char *buf,
                                           size_t buflen) {
    return libssh2_channel_read_stderr(channel, buf, buflen);
}

ssize_t relevo_libssh2_channel_write(LIBSSH2_CHANNEL *channel, const char *buf,
                                     size_t buflen) {
    return libssh2_channel_write(channel, buf, buflen);
}

int relevo_libssh2_channel_flush(LIBSSH2_CHANNEL *channel) {
    return libssh2_channel_flush(channel);
}

/* ---- libssh2 SFTP ---------------------------------------------------------
 * The macros pass strlen() (a size_t) where libssh2 takes unsigned int; the
 * casts below only make that implicit conversion explicit. */

LIBSSH2_SFTP_HANDLE *relevo_libssh2_sftp_open(LIBSSH2_SFTP *sftp, const char *filename,
                                              unsigned long flags, long mode) {
    return libssh2_sftp_open_ex(sftp, filename, (unsigned int)strlen(filename), flags,
                                mode, LIBSSH2_SFTP_OPENFILE);
}

LIBSSH2_SFTP_HANDLE *relevo_libssh2_sftp_opendir(LIBSSH2_SFTP *sftp, const char *path) {
    return libssh2_sftp_open_ex(sftp, path, (unsigned int)strlen(path), 0, 0,
                                LIBSSH2_SFTP_OPENDIR);
}

int relevo_libssh2_sftp_readdir(LIBSSH2_SFTP_HANDLE *handle, char *buffer,
                                size_t buffer_maxlen, LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_readdir(handle, buffer, buffer_maxlen, attrs);
}

int relevo_libssh2_sftp_mkdir(LIBSSH2_SFTP *sftp, const char *path, long mode) {
    return libssh2_sftp_mkdir_ex(sftp, path, (unsigned int)strlen(path), mode);
}

int relevo_libssh2_sftp_rmdir(LIBSSH2_SFTP *sftp, const char *path) {
    return libssh2_sftp_rmdir_ex(sftp, path, (unsigned int)strlen(path));
}

int relevo_libssh2_sftp_unlink(LIBSSH2_SFTP *sftp, const char *filename) {
    return libssh2_sftp_unlink_ex(sftp, filename, (unsigned int)strlen(filename));
}

int relevo_libssh2_sftp_rename(LIBSSH2_SFTP *sftp, const char *source, const char *dest) {
    return libssh2_sftp_rename_ex(sftp, source, (unsigned int)strlen(source),
                                  dest, (unsigned int)strlen(dest),
                                  LIBSSH2_SFTP_RENAME_OVERWRITE |
                                  LIBSSH2_SFTP_RENAME_ATOMIC |
                                  LIBSSH2_SFTP_RENAME_NATIVE);
}

int relevo_libssh2_sftp_stat(LIBSSH2_SFTP *sftp, const char *path,
                             LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_stat_ex(sftp, path, (unsigned int)strlen(path),
                                LIBSSH2_SFTP_STAT, attrs);
}

int relevo_libssh2_sftp_lstat(LIBSSH2_SFTP *sftp, const char *path,
                              LIBSSH2_SFTP_ATTRIBUTES *attrs) {
    return libssh2_sftp_stat_ex(sftp, path, (unsigned int)strlen(path),
                                LIBSSH2_SFTP_LSTAT, attrs);
}

int relevo_libssh2_sftp_symlink(LIBSSH2_SFTP *sftp, const char *orig, const char *linkpath) {
    return libssh2_sftp_symlink_ex(sftp, orig, (unsigned int)strlen(orig),
                                   (char *)linkpath, (unsigned int)strlen(linkpath),
                                   LIBSSH2_SFTP_SYMLINK);
}

int relevo_libssh2_sftp_readlink(LIBSSH2_SFTP *sftp, const char *path, char *target,
                                 unsigned int maxlen) {
    return libssh2_sftp_symlink_ex(sftp, path, (unsigned int)strlen(path), target, maxlen,
                                   LIBSSH2_SFTP_READLINK);
}
