/*
 * relevo_shim.h: plain C entry points for the parts of libcurl and libssh2
 * that Swift cannot call directly.
 *
 * Swift imports neither C variadic functions (curl_easy_setopt,
 * curl_easy_getinfo) nor function-like macros (most of libssh2's short
 * names, e.g. libssh2_channel_exec). Each function below forwards to exactly
 * one library call with the same meaning; there is no other logic.
 *
 * Everything already callable from Swift (curl_easy_init, curl_easy_perform,
 * libssh2_session_handshake, libssh2_channel_eof, libssh2_scp_recv2,
 * libssh2_sftp_init, libssh2_sftp_read/_write, libssh2_sftp_close_handle,
 * ldap_set_option, ...) is used directly through the CCurl, CSSH2 and CLDAP
 * modules and is deliberately not wrapped here.
 *
 * Return values and error codes are those of the wrapped call.
 */
#ifndef RELEVO_SHIM_H
#define RELEVO_SHIM_H

#include <stddef.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- libcurl: curl_easy_setopt(handle, option, ...) ------------------------
 * Pick the wrapper that matches the option's documented parameter type. */

/* Options taking a long (CURLOPTTYPE_LONG), e.g. CURLOPT_VERBOSE, CURLOPT_TIMEOUT. */
CURLcode relevo_curl_easy_setopt_long(CURL *curl, CURLoption option, long value);

/* Options taking a char * (CURLOPTTYPE_STRINGPOINT), e.g. CURLOPT_URL.
 * libcurl copies the string, so it need not outlive the call. */
CURLcode relevo_curl_easy_setopt_string(CURL *curl, CURLoption option, const char *value);

/* Options taking a data pointer (CURLOPTTYPE_OBJECTPOINT / CBPOINT / SLISTPOINT),
 * e.g. CURLOPT_WRITEDATA, CURLOPT_HTTPHEADER (struct curl_slist *). */
CURLcode relevo_curl_easy_setopt_pointer(CURL *curl, CURLoption option, void *value);

/* Options taking a curl_off_t (CURLOPTTYPE_OFF_T), e.g. CURLOPT_RESUME_FROM_LARGE. */
CURLcode relevo_curl_easy_setopt_off_t(CURL *curl, CURLoption option, curl_off_t value);

/* Options taking a callback with the curl_write_callback signature
 * size_t (*)(char *, size_t, size_t, void *): CURLOPT_WRITEFUNCTION,
 * CURLOPT_HEADERFUNCTION, and CURLOPT_READFUNCTION (curl_read_callback has
 * the same C signature). */
CURLcode relevo_curl_easy_setopt_write_callback(CURL *curl, CURLoption option,
                                                curl_write_callback callback);

/* ---- libcurl: curl_easy_getinfo(handle, info, ...) ------------------------ */

/* CURLINFO_LONG results, e.g. CURLINFO_RESPONSE_CODE, CURLINFO_FILETIME. */
CURLcode relevo_curl_easy_getinfo_long(CURL *curl, CURLINFO info, long *value);

/* CURLINFO_DOUBLE results, e.g. CURLINFO_TOTAL_TIME. */
CURLcode relevo_curl_easy_getinfo_double(CURL *curl, CURLINFO info, double *value);

/* CURLINFO_OFF_T results, e.g. CURLINFO_SIZE_DOWNLOAD_T, CURLINFO_TOTAL_TIME_T. */
CURLcode relevo_curl_easy_getinfo_off_t(CURL *curl, CURLINFO info, curl_off_t *value);

/* CURLINFO_STRING results, e.g. CURLINFO_EFFECTIVE_URL, CURLINFO_CONTENT_TYPE.
 * The string belongs to the handle: copy it, do not free it. */
CURLcode relevo_curl_easy_getinfo_string(CURL *curl, CURLINFO info, char **value);

/* ---- libssh2 (libssh2.h): function-like macros ---------------------------- */

/* libssh2_session_init(): default allocators. NULL on failure. */
LIBSSH2_SESSION *relevo_libssh2_session_init(void);

/* libssh2_session_disconnect(session, description) */
int relevo_libssh2_session_disconnect(LIBSSH2_SESSION *session, const char *description);

/* libssh2_userauth_password(session, username, password) */
int relevo_libssh2_userauth_password(LIBSSH2_SESSION *session, const char *username,
                                     const char *password);

/* libssh2_userauth_publickey_fromfile(session, username, publickey, privatekey,
 * passphrase); publickey and passphrase may be NULL. */
int relevo_libssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *session,
                                               const char *username,
                                               const char *publickey,
                                               const char *privatekey,
                                               const char *passphrase);

/* libssh2_channel_open_session(session). NULL on failure
 * (see libssh2_session_last_errno). */
LIBSSH2_CHANNEL *relevo_libssh2_channel_open_session(LIBSSH2_SESSION *session);

/* libssh2_channel_exec(channel, command) */
int relevo_libssh2_channel_exec(LIBSSH2_CHANNEL *channel, const char *command);

/* libssh2_channel_read(channel, buf, buflen): stdout of the remote command.
 * Bytes read, 0 at EOF, or a negative LIBSSH2_ERROR_*. */
ssize_t relevo_libssh2_channel_read(LIBSSH2_CHANNEL *channel, char *buf, size_t buflen);

/* libssh2_channel_read_stderr(channel, buf, buflen) */
ssize_t relevo_libssh2_channel_read_stderr(LIBSSH2_CHANNEL *channel, char *buf,
                                           size_t buflen);

/* libssh2_channel_write(channel, buf, buflen): stdin of the remote command. */
ssize_t relevo_libssh2_channel_write(LIBSSH2_CHANNEL *channel, const char *buf,
                                     size_t buflen);

/* libssh2_channel_flush(channel) */
int relevo_libssh2_channel_flush(LIBSSH2_CHANNEL *channel);

/* ---- libssh2 (libssh2_sftp.h): function-like macros ----------------------- */

/* libssh2_sftp_open(sftp, filename, flags, mode); flags are LIBSSH2_FXF_*,
 * mode LIBSSH2_SFTP_S_*. Close with libssh2_sftp_close_handle. */
LIBSSH2_SFTP_HANDLE *relevo_libssh2_sftp_open(LIBSSH2_SFTP *sftp, const char *filename,
                                              unsigned long flags, long mode);

/* libssh2_sftp_opendir(sftp, path). Close with libssh2_sftp_close_handle. */
LIBSSH2_SFTP_HANDLE *relevo_libssh2_sftp_opendir(LIBSSH2_SFTP *sftp, const char *path);

/* libssh2_sftp_readdir(handle, buffer, buffer_maxlen, attrs): length of the
 * name written to buffer, 0 when there are no more entries, or < 0 on error. */
int relevo_libssh2_sftp_readdir(LIBSSH2_SFTP_HANDLE *handle, char *buffer,
                                size_t buffer_maxlen, LIBSSH2_SFTP_ATTRIBUTES *attrs);

/* libssh2_sftp_mkdir(sftp, path, mode) */
int relevo_libssh2_sftp_mkdir(LIBSSH2_SFTP *sftp, const char *path, long mode);

/* libssh2_sftp_rmdir(sftp, path) */
int relevo_libssh2_sftp_rmdir(LIBSSH2_SFTP *sftp, const char *path);

/* libssh2_sftp_unlink(sftp, filename) */
int relevo_libssh2_sftp_unlink(LIBSSH2_SFTP *sftp, const char *filename);

/* libssh2_sftp_rename(sftp, source, dest): with the macro's flags
 * OVERWRITE | ATOMIC | NATIVE. */
int relevo_libssh2_sftp_rename(LIBSSH2_SFTP *sftp, const char *source, const char *dest);

/* libssh2_sftp_stat(sftp, path, attrs): follows symlinks. */
int relevo_libssh2_sftp_stat(LIBSSH2_SFTP *sftp, const char *path,
                             LIBSSH2_SFTP_ATTRIBUTES *attrs);

/* libssh2_sftp_lstat(sftp, path, attrs): does not follow symlinks. */
int relevo_libssh2_sftp_lstat(LIBSSH2_SFTP *sftp, const char *path,
                              LIBSSH2_SFTP_ATTRIBUTES *attrs);

/* libssh2_sftp_symlink(sftp, orig, linkpath): creates linkpath -> orig.
 * (libssh2 takes linkpath as char * but does not write to it.) */
int relevo_libssh2_sftp_symlink(LIBSSH2_SFTP *sftp, const char *orig, const char *linkpath);

/* libssh2_sftp_readlink(sftp, path, target, maxlen): length of the target
 * written to target (not NUL-terminated if it fills maxlen), or < 0 on error. */
int relevo_libssh2_sftp_readlink(LIBSSH2_SFTP *sftp, const char *path, char *target,
                                 unsigned int maxlen);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RELEVO_SHIM_H */
