# shellcheck shell=bash
# scripts/testbed-mail.sh: the mail part of the testbed (`scripts/testbed up
# --mail`), sourced by scripts/testbed. See docs/testbed.md, "The mail hosts".
#
# For each host (neon, the old one; xalumno, the new one, the MX):
#   - a Postfix (its own config and queue directories, its master started by
#     this script with `master -c DIR`, never /etc/postfix's instance) that
#     looks up the recipient in the directories and delivers into the Maildir
#     under mailMessageStore when the user's mailHost is this host, or relays
#     to the other host otherwise;
#   - a Dovecot (`dovecot -c CONF`, IMAP and POP3) that serves a user's
#     session itself when mailHost is this host and proxies it there otherwise;
#     a master user (`USER*relevo`) whose password is in a 0600 file.
#
# mailHost → address: the directory holds host names (neon.servidores.unam.mx);
# nothing resolves them on a testbed. The script writes the map into the
# configuration it generates: one lookup table per (directory, host) pair,
# whose LDAP filter names the mailHost and whose result names that host's
# loopback address. It follows the settings (IsolatedTestbed's random
# addresses included), and /etc/hosts is never touched.
#
# Which directory: the new one first, the old one when the new one has no
# such user (before the plan's import phase the new directory is empty).
#
# Where a Maildir is: mailMessageStore names the old host's path
# ($RELEVO_OLD_ROOT/UID/, as on the real neon). neon uses it as it is;
# xalumno maps the old root onto its own ($RELEVO_NEW_ROOT/UID/), as
# qmail-ldap's control/ldapmessagestore prefix did on the real hosts.

TB_MAIL_DOMAIN='exalumno.unam.mx'
TB_MAIL_MASTER_USER='relevo'
TB_MAIL_PACKAGES=(postfix postfix-ldap dovecot-core dovecot-imapd dovecot-pop3d dovecot-ldap)
# shellcheck disable=SC2034 # used by scripts/testbed, which sources this file.
MAIL_DAEMONS=(postfix-neon postfix-xalumno dovecot-neon dovecot-xalumno)
MAIL_MASTER_PASSWORD_FILE="$D/secret/mail-master.password"
MAIL_ENABLED="$D/mail/enabled"

tb_mail_host_name() {
    case "$1" in
        neon) printf '%s' "$TB_OLD_MAILHOST" ;;
        xalumno) printf '%s' "$TB_NEW_MAILHOST" ;;
    esac
}
tb_mail_host_addr() {
    case "$1" in
        neon) printf '%s' "$S_OLD_ADDRESS" ;;
        xalumno) printf '%s' "$S_NEW_ADDRESS" ;;
    esac
}
tb_mail_root() {
    case "$1" in
        neon) printf '%s' "$OLD_ROOT" ;;
        xalumno) printf '%s' "$NEW_ROOT" ;;
    esac
}

# The mail daemons are part of this testbed once `up --mail` ran.
tb_mail_enabled() { [ -f "$MAIL_ENABLED" ]; }

# ---------------------------------------------------------------------------
# Installing

tb_mail_install_packages() {
    tb_apt_install "${TB_MAIL_PACKAGES[@]}"
    # Debian's default instances, had something started them, would hold
    # *:25, *:143 and *:110. Stopped through their own commands (never by
    # process name), only when their pid files name a live process.
    tb_mail_stop_system_instances
    local tool
    for tool in /usr/lib/postfix/sbin/master /usr/sbin/postfix /usr/sbin/postconf /usr/sbin/dovecot /usr/bin/doveadm; do
        [ -x "$tool" ] || relevo_die "$tool is missing after installing ${TB_MAIL_PACKAGES[*]}"
    done
}

tb_mail_stop_system_instances() {
    local pid
    if [ -s /var/spool/postfix/pid/master.pid ]; then
        pid="$(tr -cd '0-9' </var/spool/postfix/pid/master.pid)"
        if [ -n "$pid" ] && tb_alive "$pid"; then
            relevo_log "testbed: stopping Debian's default postfix (pid $pid), which would take port 25"
            /usr/sbin/postfix stop >&2 || true
        fi
    fi
    if [ -s /run/dovecot/master.pid ]; then
        pid="$(tr -cd '0-9' </run/dovecot/master.pid)"
        if [ -n "$pid" ] && tb_alive "$pid"; then
            relevo_log "testbed: stopping Debian's default dovecot (pid $pid), which would take ports 143 and 110"
            /usr/sbin/dovecot stop >&2 || true
        fi
    fi
}

# ---------------------------------------------------------------------------
# Creating

# The master user's password (random, 0600, no newline) and its {SSHA} hash
# for Dovecot's passwd-file.
tb_mail_make_master_password() {
    if [ ! -s "$MAIL_MASTER_PASSWORD_FILE" ]; then
        relevo_log "testbed: generating the mail master user's password ($MAIL_MASTER_PASSWORD_FILE)"
        tb_random_password "$MAIL_MASTER_PASSWORD_FILE"
        rm -f "$D/mail/master-users"
    fi
    if [ ! -s "$D/mail/master-users" ]; then
        local hash
        hash="$(/usr/sbin/slappasswd -h '{SSHA}' -T "$MAIL_MASTER_PASSWORD_FILE")"
        [[ "$hash" == '{SSHA}'* ]] || relevo_die "slappasswd did not produce an {SSHA} hash"
        printf '%s:%s\n' "$TB_MAIL_MASTER_USER" "$hash" >"$D/mail/master-users.tmp"
        chgrp dovecot "$D/mail/master-users.tmp"
        chmod 0640 "$D/mail/master-users.tmp"
        mv -f "$D/mail/master-users.tmp" "$D/mail/master-users"
    fi
}

# A file holding the LDAP admin password, readable by root and one group only.
tb_mail_private() {
    local file="$1" group="$2" changed=1
    if tb_write_if_changed "$file" 0640; then changed=0; fi
    chgrp "$group" "$file"
    return "$changed"
}

# The connection part of a mail daemon's LDAP table for one directory
# ($1: postfix or dovecot; $2: old or new), with the admin's password.
tb_mail_ldap_conf() {
    local addr=$S_NEW_ADDRESS
    [ "$2" = new ] || addr=$S_OLD_ADDRESS
    printf '# Generated by scripts/testbed: the %s directory.\n' "$2"
    if [ "$1" = postfix ]; then
        printf 'server_host = ldap://%s:%s\nversion = 3\nbind = yes\nbind_dn = %s\nbind_pw = %s\n' \
            "$addr" "$S_LDAP_PORT" "$TB_ADMIN_DN" "$(cat "$PASSWORD_FILE")"
        # The suffix, spelled from the recipient's domain (exalumno.unam.mx): a
        # search base that depends on the key makes "no such base" (the new
        # directory before its import) read as "no such user", not a lookup error.
        printf 'search_base = dc=%%3,dc=%%2,dc=%%1\ndomain = %s\ntimeout = 5\n' "$TB_MAIL_DOMAIN"
    else
        printf 'uris = ldap://%s:%s\nldap_version = 3\ndn = %s\ndnpass = %s\nauth_bind = no\nbase = %s\nscope = subtree\n' \
            "$addr" "$S_LDAP_PORT" "$TB_ADMIN_DN" "$(cat "$PASSWORD_FILE")" "$TB_SUFFIX"
    fi
}

tb_postfix_main_cf() {
    local host="$1" dir="$D/mail/postfix-$1/etc" addr side target maps=() stores=()
    addr="$(tb_mail_host_addr "$host")"
    for side in new old; do
        for target in neon xalumno; do maps+=("ldap:$dir/transport-$side-$target.cf"); done
        stores+=("ldap:$dir/store-$side.cf")
    done
    cat <<EOF
# Generated by scripts/testbed on every up --mail: the Postfix of $host
# ($(tb_mail_host_name "$host")). Edit scripts/testbed-mail.sh, not this file.
compatibility_level = 3.6
queue_directory = $D/mail/postfix-$host/queue
data_directory = $D/mail/postfix-$host/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $(tb_log "postfix-$host")
maillog_file_prefixes = $D/log
myhostname = $(tb_mail_host_name "$host")
mydomain = servidores.unam.mx
myorigin = \$myhostname
# master.cf names the address: 127.x.y.z other than 127.0.0.1 is no
# interface's address, which inet_interfaces would refuse.
inet_interfaces = all
inet_protocols = ipv4
smtp_bind_address = $addr
smtpd_banner = \$myhostname ESMTP relevo testbed ($host)
biff = no
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled on the testbed
alias_maps =
alias_database =
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# Every user of the domain is a virtual mailbox: Maildir delivery (the path
# ends in /) under mailMessageStore, as vmail.
virtual_mailbox_domains = $TB_MAIL_DOMAIN
virtual_mailbox_base = /
virtual_mailbox_maps = ${stores[*]}
virtual_uid_maps = static:$(id -u vmail)
virtual_gid_maps = static:$(id -g vmail)
virtual_minimum_uid = $(id -u vmail)
virtual_mailbox_limit = 0
# mailHost → next hop: one table per (directory, host); the new directory first.
transport_maps = ${maps[*]}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_cert_file = $TLS_DIR/server.crt
smtpd_tls_key_file = $TLS_DIR/server.key
# A testbed retries deferred mail quickly.
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
default_process_limit = 20
EOF
}

tb_postfix_master_cf() {
    local addr
    addr="$(tb_mail_host_addr "$1")"
    cat <<EOF
# Generated by scripts/testbed: the services of one testbed Postfix. No chroot.
$addr:$S_SMTP_PORT inet n    -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

tb_postfix_write_configs() {
    local host="$1" dir="$D/mail/postfix-$1/etc" changed=1 side target result
    # Config, queue and data side by side: postfix check wants everything
    # under the config directory owned by root.
    install -d -m 0755 "$D/mail/postfix-$host" "$dir" "$D/mail/postfix-$host/queue"
    install -d -m 0700 -o postfix -g postfix "$D/mail/postfix-$host/data"
    if tb_postfix_main_cf "$host" | tb_write_if_changed "$dir/main.cf" 0644; then changed=0; fi
    if tb_postfix_master_cf "$host" | tb_write_if_changed "$dir/master.cf" 0644; then changed=0; fi
    for side in new old; do
        for target in neon xalumno; do
            if [ "$target" = "$host" ]; then
                result='virtual:'
            else
                result="smtp:[$(tb_mail_host_addr "$target")]:$S_SMTP_PORT"
            fi
            if {
                tb_mail_ldap_conf postfix "$side"
                printf '# mailHost %s → %s\n' "$(tb_mail_host_name "$target")" "$result"
                printf 'query_filter = (&(objectClass=qmailUser)(mail=%%s)(mailHost=%s))\n' "$(tb_mail_host_name "$target")"
                printf 'result_attribute = mail\nresult_format = %s\n' "$result"
            } | tb_mail_private "$dir/transport-$side-$target.cf" postfix; then changed=0; fi
        done
        if {
            tb_mail_ldap_conf postfix "$side"
            printf 'query_filter = (&(objectClass=qmailUser)(mail=%%s))\n'
            if [ "$host" = neon ]; then
                printf 'result_attribute = mailMessageStore\n'
            else
                # virtual(8) refuses regexp substitutions in its maps, so the
                # old root cannot be rewritten: xalumno's Maildir is UID/
                # under its root, where the plans' copy puts it.
                printf 'result_attribute = uid\nresult_format = %s/%%s/\n' "$NEW_ROOT"
            fi
        } | tb_mail_private "$dir/store-$side.cf" postfix; then changed=0; fi
    done
    if ! out="$(/usr/sbin/postfix -c "$dir" check 2>&1)"; then
        printf '%s\n' "$out" >&2
        tb_show_log "postfix-$host"
        relevo_die "postfix check rejects $dir"
    fi
    return "$changed"
}

# Dovecot: one passdb per (directory, host), in order: new before old.
tb_dovecot_conf() {
    local host="$1" dir="$D/mail/dovecot-$1" addr side target
    addr="$(tb_mail_host_addr "$host")"
    cat <<EOF
# Generated by scripts/testbed on every up --mail: the Dovecot of $host
# ($(tb_mail_host_name "$host")). Edit scripts/testbed-mail.sh, not this file.
# Only this file is read (-c): not /etc/dovecot.
instance_name = relevo-$host
base_dir = $D/run/dovecot-$host
state_dir = $dir/state
log_path = $(tb_log "dovecot-$host")
listen = $addr
protocols = imap pop3
ssl = yes
ssl_cert = <$TLS_DIR/server.crt
ssl_key = <$TLS_DIR/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
auth_cache_size = 0
first_valid_uid = $(id -u vmail)
login_trusted_networks = 127.0.0.0/8
mail_fsync = always
pop3_uidl_format = %f
service imap-login {
  inet_listener imap {
    address = $addr
    port = $S_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = $addr
    port = $S_POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0600
  }
}
# The master user: USER*$TB_MAIL_MASTER_USER with its own password; pass = yes
# then looks the user up in the passdbs below (without their password) for
# where the session goes.
passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=SSHA $D/mail/master-users
}
EOF
    for side in new old; do
        for target in neon xalumno; do
            printf 'passdb {\n  driver = ldap\n  args = %s\n}\n' "$dir/passdb-$side-$target.conf.ext"
        done
    done
    for side in new old; do
        printf 'userdb {\n  driver = ldap\n  args = %s\n}\n' "$dir/userdb-$side.conf.ext"
    done
}

tb_dovecot_write_configs() {
    local host="$1" dir="$D/mail/dovecot-$1" changed=1 side target mail
    install -d -m 0755 "$dir" "$dir/state" "$D/run/dovecot-$host"
    install -d -m 0755 -o vmail -g vmail "$dir/index"
    if tb_dovecot_conf "$host" | tb_write_if_changed "$dir/dovecot.conf" 0644; then changed=0; fi
    # The session's Maildir, with Dovecot's index and control files outside it
    # (a store holds the messages and nothing else).
    if [ "$host" = neon ]; then
        mail="maildir:%{ldap:mailMessageStore}"
    else
        # UID/ under the new root, as for Postfix.
        mail="maildir:$NEW_ROOT/%u"
    fi
    mail="$mail:INDEX=$dir/index/%u:CONTROL=$dir/index/%u"
    for side in new old; do
        for target in neon xalumno; do
            if {
                tb_mail_ldap_conf dovecot "$side"
                printf '# mailHost %s → %s (served here when it is this host)\n' \
                    "$(tb_mail_host_name "$target")" "$(tb_mail_host_addr "$target")"
                printf 'pass_filter = (&(objectClass=qmailUser)(uid=%%u)(mailHost=%s))\n' "$(tb_mail_host_name "$target")"
                printf 'pass_attrs = uid=user, =proxy_maybe=y, =host=%s, =port=%%{if;%%s;eq;imap;%s;%s}, =master=%%{master_user}, =pass=%%w\n' \
                    "$(tb_mail_host_addr "$target")" "$S_IMAP_PORT" "$S_POP3_PORT"
            } | tb_mail_private "$dir/passdb-$side-$target.conf.ext" dovecot; then changed=0; fi
        done
        if {
            tb_mail_ldap_conf dovecot "$side"
            printf 'user_filter = (&(objectClass=qmailUser)(uid=%%u))\n'
            printf 'user_attrs = =uid=vmail, =gid=vmail, =mail=%s\n' "$mail"
            printf 'iterate_filter = (objectClass=qmailUser)\niterate_attrs = uid=user\n'
        } | tb_mail_private "$dir/userdb-$side.conf.ext" dovecot; then changed=0; fi
    done
    if ! out="$(/usr/bin/doveconf -c "$dir/dovecot.conf" -n 2>&1 >/dev/null)"; then
        printf '%s\n' "$out" >&2
        relevo_die "doveconf rejects $dir/dovecot.conf"
    fi
    return "$changed"
}

# The stores belong to vmail, which Postfix delivers and Dovecot reads as.
tb_mail_own_stores() {
    [ -d "$OLD_ROOT" ] && chown -R vmail:vmail "$OLD_ROOT"
    [ -d "$NEW_ROOT" ] && chown vmail:vmail "$NEW_ROOT"
    return 0
}

tb_mail_prepare() {
    tb_mail_install_packages
    install -d -m 0755 "$D/mail"
    tb_mail_make_master_password
    local host
    for host in neon xalumno; do
        if tb_postfix_write_configs "$host" && tb_running_pid "postfix-$host" >/dev/null; then
            relevo_log "testbed: postfix-$host's configuration changed while it runs; restarting it"
            tb_stop "postfix-$host"
        fi
        if tb_dovecot_write_configs "$host" && tb_running_pid "dovecot-$host" >/dev/null; then
            relevo_log "testbed: dovecot-$host's configuration changed while it runs; restarting it"
            tb_stop "dovecot-$host"
        fi
    done
    if [ ! -f "$MAIL_ENABLED" ]; then
        tb_mail_own_stores
        date -u +%FT%TZ >"$MAIL_ENABLED"
    fi
}

# ---------------------------------------------------------------------------
# Starting

# Waits for a greeting starting with $3 on $1:$2.
tb_wait_banner() {
    local addr="$1" port="$2" expect="$3" name="$4" tries=100 line
    while [ "$tries" -gt 0 ]; do
        # shellcheck disable=SC2016 # the inner shell's arguments.
        if line="$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"; head -n 1 <&3' _ "$addr" "$port" 2>/dev/null)" \
            && [[ "$line" == "$expect"* ]]; then
            return 0
        fi
        sleep 0.1
        tries=$((tries - 1))
    done
    tb_show_log "$name"
    relevo_die "$name does not greet on $addr:$port"
}

# Postfix's processes log through postlogd's datagram socket
# (maillog_file), and a sender blocks while the socket's queue holds
# net.unix.max_dgram_qlen datagrams (Linux's default: 10). During a storm
# of `postfix reload`s (one per migrated user, the real-time test) postlogd
# exits with the other daemons; if the queue fills before master starts a
# new one, master itself blocks logging and never reaps or restarts it:
# Postfix is wedged and every later reload times out (seen in a CI run,
# master in unix_wait_for_peer, postlogd defunct). A deep queue lets the
# restart gap pass. The setting belongs to this network namespace; root
# only, and a failure to set it is said, not fatal.
tb_raise_dgram_queue() {
    local file=/proc/sys/net/unix/max_dgram_qlen want=4096
    [ -w "$file" ] || { relevo_log "testbed: cannot raise $file (Postfix may wedge under many reloads)"; return 0; }
    if [ "$(cat "$file")" -lt "$want" ]; then
        echo "$want" >"$file" 2>/dev/null || relevo_log "testbed: cannot raise $file (Postfix may wedge under many reloads)"
    fi
}

tb_start_postfix() {
    local host="$1" name="postfix-$1" dir="$D/mail/postfix-$1/etc" addr log
    addr="$(tb_mail_host_addr "$host")"
    log="$(tb_log "$name")"
    tb_check_ports_free "$name"
    relevo_log "testbed: starting $name on $addr:$S_SMTP_PORT"
    rm -f "$(tb_pidfile "$name")"
    tb_raise_dgram_queue
    printf '\n==== %s scripts/testbed: master -c %s\n' "$(date -u +%FT%TZ)" "$dir" >>"$log"
    # -d: in the foreground (this script detaches it with setsid), so its
    # command line names its config directory for `down`'s check.
    (tb_exec_clean setsid /usr/lib/postfix/sbin/master -c "$dir" -d) </dev/null >>"$log" 2>&1 &
    local tries=100
    until tb_running_pid "$name" >/dev/null; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || { tb_show_log "$name"; relevo_die "$name wrote no pid file $(tb_pidfile "$name")"; }
        sleep 0.1
    done
    tb_wait_banner "$addr" "$S_SMTP_PORT" "220 " "$name"
}

tb_start_dovecot() {
    local host="$1" name="dovecot-$1" addr conf log
    addr="$(tb_mail_host_addr "$host")"
    conf="$(tb_conf "$name")"
    log="$(tb_log "$name")"
    tb_check_ports_free "$name"
    relevo_log "testbed: starting $name on $addr:$S_IMAP_PORT (IMAP), $addr:$S_POP3_PORT (POP3)"
    rm -f "$(tb_pidfile "$name")"
    (tb_exec_clean setsid /usr/sbin/dovecot -c "$conf" -F) </dev/null >>"$log" 2>&1 &
    local tries=100
    until tb_running_pid "$name" >/dev/null; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || { tb_show_log "$name"; relevo_die "$name wrote no pid file $(tb_pidfile "$name")"; }
        sleep 0.1
    done
    tb_wait_banner "$addr" "$S_IMAP_PORT" "* OK" "$name"
    tb_wait_banner "$addr" "$S_POP3_PORT" "+OK" "$name"
}
