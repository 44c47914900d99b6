# shellcheck shell=sh
# /e2e/guest/lib.sh: helpers for the guest's flows and scenario scripts.
#
#   use_source SOURCE   route the kernel's records to SOURCE and set LOG (what
#                       the checks read) and FROM (aa-flow's --from arguments)
#   source_text         the records as SOURCE holds them, read without aa-flow
#   settle              wait until the source has caught up
#   docker_start        start dockerd (not started at boot) and wait for it
#   docker_image NAME [PROGRAM...]  import a local image NAME: busybox and the
#                       named programs from /usr/bin (no registry in the guest)
#
# Where records go (Debian 12 and 13): with auditd running, only to
# /var/log/audit/audit.log (and, on 12, journald's audit transport); with
# auditd stopped, to /dev/kmsg and from there to journald's kernel transport
# and rsyslog's /var/log/kern.log and /var/log/syslog.

auditd_stop() {
	pid=$(pidof auditd) || return 0
	# auditd.service refuses `systemctl stop` (RefuseManualStop=yes).
	kill "$pid"
	i=0
	while pidof auditd >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	! pidof auditd >/dev/null
}

auditd_start() {
	pidof auditd >/dev/null && return 0
	systemctl start auditd
	i=0
	until auditctl -s 2>/dev/null | grep -q '^pid [1-9]' || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	auditctl -s 2>/dev/null | grep -q '^pid [1-9]'
}

# use_source SOURCE: auditd | syslog | journald | kmsg.
use_source() {
	SOURCE=$1
	case $SOURCE in
	auditd)
		auditd_start || echo "use_source: auditd did not start"
		LOG=/var/log/audit/audit.log
		FROM="--from $LOG"
		;;
	syslog)
		auditd_stop || echo "use_source: auditd did not stop"
		LOG=${SYSLOG_FILE:-/var/log/kern.log}
		FROM="--from $LOG"
		;;
	journald)
		# No --from: with auditd stopped aa-flow finds journald itself (and
		# says so on stderr).
		auditd_stop || echo "use_source: auditd did not stop"
		LOG=journald
		FROM=""
		;;
	kmsg)
		auditd_stop || echo "use_source: auditd did not stop"
		LOG=/dev/kmsg
		FROM="--from $LOG"
		;;
	*)
		echo "use_source: unknown SOURCE=$SOURCE (auditd, syslog, journald, kmsg)"
		return 1
		;;
	esac
}

source_text() {
	case $SOURCE in
	kmsg) dmesg ;;
	journald) journalctl -b -k -o cat 2>/dev/null ;;
	*) cat "$LOG" 2>/dev/null ;;
	esac
}

settle() {
	sleep "${SETTLE:-1}"
	[ "$SOURCE" = journald ] && journalctl --sync 2>/dev/null
	return 0
}

docker_start() {
	systemctl start docker || return 1
	i=0
	until docker info >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.3; i=$((i + 1)); done
	docker info >/dev/null 2>&1
}

docker_image() {
	name=$1
	shift
	r=$(mktemp -d)
	mkdir -p "$r/bin" "$r/usr/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
	cp /bin/busybox "$r/bin/"
	for a in $(busybox --list); do ln -sf busybox "$r/bin/$a"; done
	for p in "$@"; do cp "/usr/bin/$p" "$r/usr/bin/"; done
	tar -C "$r" -c . | docker import - "$name" >/dev/null
	rc=$?
	rm -rf "$r"
	return $rc
}
