# shellcheck shell=bash
# e2e/lib.sh: the host half of aa-flow's end-to-end harness, sourced by e2e/run,
# e2e/run-all and e2e/demo. It builds (once, cached) a Debian guest from the
# release's own packages, builds the programs under test, puts them and the
# scenarios on a second disk, boots the guest under qemu and reads back what
# each scenario reported.
#
#   GUEST=debian-12 (default) | debian-13: the release the guest is built from
#   (debian-13-backports: 13 with trixie-backports' kernel, for e2e/capture-corpus)
#
# The guest (e2e/guest/build-image): Debian's kernel, systemd, AppArmor (parser,
# abstractions, tunables, abi; apparmor.service loads /etc/apparmor.d at boot),
# auditd, rsyslog, journald, busybox, docker.io. Its e2e.service mounts the run
# disk on /e2e and runs /e2e/guest/boot, which runs the scenarios in turn.
#   /e2e/guest/            boot, flow, checks.sh, lib.sh (from e2e/guest/)
#   /e2e/bin/              aa-flow (static, `make build`), aa-flow-sdjournal
#                          (cgo, -tags sdjournal), the e2e/cmd programs;
#                          copied to the guest's /usr/bin
#   /e2e/scenarios/NAME/   each scenario; /e2e/scenario points at the running one
#   /e2e/dist/             the project's dist/ (what a package installs), if any
#
# Facts this relies on: qemu -accel tcg -cpu max (the KVM on our hosts is nested
# and hangs a stock kernel); the image is made with `mkfs.ext4 -d` (no mount)
# and attached with snapshot=on, so a run never changes it; a second serial
# port is the data channel (the guest's /dev/ttyS1).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/.." && pwd)
WORK=${E2E_WORK:-$E2E_DIR/work}
GUEST=${GUEST:-debian-12}
case $GUEST in
debian-12 | debian-13 | debian-13-backports) ;;
*) printf '[e2e] error: GUEST=%s: want debian-12, debian-13 or debian-13-backports\n' "$GUEST" >&2 && exit 2 ;;
esac
# Guest images are cached outside the tree so a fresh checkout reuses them.
CACHE=${E2E_CACHE:-/var/cache/aa-flow}
if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	CACHE=$WORK/cache
fi

log() { printf '[e2e] %s\n' "$*" >&2; }
die() { printf '[e2e] error: %s\n' "$*" >&2; exit 1; }

# e2e_image prints the directory of GUEST's image (root.img, vmlinuz,
# initrd.img, versions), building it the first time. The directory's name
# holds a hash of the package list and the build script: a change to either
# builds a new image (and removes the old one).
e2e_image() {
	local key dir
	key=$(cat "$E2E_DIR/guest/build-image" "$E2E_DIR/guest/packages" | sha256sum | cut -c1-12)
	dir=$CACHE/guest-$GUEST-$key
	mkdir -p "$CACHE"
	(
		flock 9
		if [ ! -s "$dir/root.img" ]; then
			local t0=$SECONDS
			log "building the $GUEST guest from Debian's packages (once; cached in $dir)"
			"$E2E_DIR/guest/build-image" "$GUEST" "$dir.tmp" >&2 || die "building the $GUEST guest failed"
			rm -rf "$dir" && mv "$dir.tmp" "$dir"
			log "built the $GUEST guest in $((SECONDS - t0))s"
			local old
			for old in "$CACHE/guest-$GUEST-"*; do
				[ "$old" = "$dir" ] || rm -rf "$old"
			done
		fi
	) 9>"$CACHE/.guest-$GUEST.lock" || exit 1
	printf '%s\n' "$dir"
}

# e2e_build builds the programs under test into $WORK/bin: the static aa-flow
# of `make build` (or, with E2E_SRC=head, of the last commit), the sd-journal
# build of the same source, and every e2e/cmd program. It holds a lock so
# parallel runs build once.
e2e_build() {
	mkdir -p "$WORK/bin"
	(
		flock 9
		local src=$REPO ver
		ver=$(cd "$REPO" && git describe --tags --always --dirty 2>/dev/null || echo dev)
		if [ "${E2E_SRC:-tree}" = head ]; then
			# E2E_SRC=head: test the last commit, not the working tree.
			ver=$(cd "$REPO" && git describe --tags --always 2>/dev/null || echo dev)
			src=$WORK/src
			rm -rf "$src" && mkdir -p "$src"
			(cd "$REPO" && git archive HEAD) | tar -x -C "$src"
		fi
		cd "$src" || exit 1
		CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$ver" -o "$WORK/bin/aa-flow.tmp" ./cmd/aa-flow ||
			die "go build aa-flow failed"
		CGO_ENABLED=1 go build -trimpath -tags sdjournal -ldflags "-s -w -X main.version=$ver" -o "$WORK/bin/aa-flow-sdjournal.tmp" ./cmd/aa-flow ||
			die "go build -tags sdjournal aa-flow failed"
		local d p
		for d in "$E2E_DIR"/cmd/*/; do
			p=$(basename "$d")
			CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$WORK/bin/$p.tmp" "./e2e/cmd/$p" ||
				die "go build e2e/cmd/$p failed"
		done
		for p in "$WORK"/bin/*.tmp; do mv "$p" "${p%.tmp}"; done
	) 9>"$WORK/.build.lock" || exit 1
}

# e2e_disk OUT SCENARIO_DIR...: the run disk OUT/run.img holding the guest
# scripts, the programs and the scenarios, to be run in the order given.
e2e_disk() {
	local out=$1 sc n
	shift
	local R=$out/disk
	rm -rf "$R"
	mkdir -p "$R/guest" "$R/bin" "$R/scenarios" "$R/state"
	cp "$E2E_DIR"/guest/{boot,flow,checks.sh,lib.sh} "$R/guest/"
	chmod 755 "$R/guest/boot" "$R/guest/flow"
	cp "$WORK"/bin/* "$R/bin/"
	# What `make install` puts on a host (as a Debian package would, PREFIX=/usr):
	# the boot-time loader of profile subdirectories, man pages, completions.
	make -s -C "$REPO" install DESTDIR="$R/install" PREFIX=/usr >&2 || die "make install failed"
	: >"$R/plan"
	for sc in "$@"; do
		n=$(basename "$sc")
		# -L: a scenario may share files with another through symlinks.
		cp -rL "$sc" "$R/scenarios/$n"
		echo "$n" >>"$R/plan"
	done
	mkfs.ext4 -q -F -L e2e -d "$R" "$out/run.img" 512M >/dev/null || die "mkfs.ext4 of the run disk failed"
	rm -rf "$R"
}

# e2e_boot IMAGE_DIR OUT TIMEOUT: boot the guest with OUT/run.img; the console
# goes to OUT/console.log, the data channel to OUT/data.log. The guest powers
# itself off when its scenarios are done (and may reboot once per scenario that
# asks for it).
e2e_boot() {
	local img=$1 out=$2 limit=$3
	rm -f "$out/console.log" "$out/data.log"
	timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 \
		-display none -monitor none -nodefaults -nic none \
		-device virtio-rng-pci \
		-serial "file:$out/console.log" -serial "file:$out/data.log" \
		-drive "file=$img/root.img,format=raw,if=virtio,snapshot=on" \
		-drive "file=$out/run.img,format=raw,if=virtio" \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "console=ttyS0 root=/dev/vda rw quiet panic=-1 apparmor=1 security=apparmor audit_backlog_limit=8192 log_buf_len=4M"
}

# e2e_guest_run SCENARIO_DIR...: build what is needed, boot GUEST once with the
# scenarios and print one PASS or FAIL line per scenario (naming the guest's
# kernel and parser). Transcripts are kept in $WORK/out/GUEST/NAME.txt (the
# whole data channel in data.log, the console in console.log). Returns
# non-zero if any scenario failed.
e2e_guest_run() {
	[ "${E2E_PREBUILT:-}" = 1 ] || e2e_build
	local img
	img=$(e2e_image) || exit 1
	mkdir -p "$WORK/runs" "$WORK/out"
	find "$WORK/runs" -mindepth 1 -maxdepth 1 -mmin +240 -exec rm -rf {} + 2>/dev/null || true
	local out
	out=$(mktemp -d "$WORK/runs/$GUEST.XXXXXX")
	e2e_disk "$out" "$@"
	# Time limit: the boot and 10 minutes per scenario at most (each has its
	# own limit inside the guest, E2E_SCENARIO_TIMEOUT).
	local limit=${E2E_TIMEOUT:-$((240 + 600 * $#))}
	local t0=$SECONDS rc=0
	log "$GUEST: booting $(basename "$img") with $# scenario(s)"
	e2e_boot "$img" "$out" "$limit" || rc=$?
	rm -f "$out/run.img"
	tr -d '\r' <"$out/data.log" >"$out/data.txt" 2>/dev/null || true
	rm -rf "${WORK:?}/out/$GUEST"
	ln -sfn "../runs/$(basename "$out")" "$WORK/out/$GUEST"
	[ $rc = 124 ] && log "$GUEST: qemu timed out after ${limit}s"
	e2e_report "$out" $((SECONDS - t0)) "$@"
}

# e2e_report OUT SECONDS SCENARIO_DIR...: split OUT/data.txt into one
# transcript per scenario and print each scenario's result.
e2e_report() {
	local out=$1 secs=$2 sc n failed=0 pending=0
	shift 2
	local guest
	guest=$(sed -n 's/^E2E GUEST boot 1: \(Linux [^ ]* apparmor_parser [^ ]*\).*/\1/p' "$out/data.txt" | head -n1)
	for sc in "$@"; do
		n=$(basename "$sc")
		# The scenario's lines: BEGIN to END, across a reboot.
		awk -v n="$n" '$0 ~ "^E2E SCENARIO BEGIN " n " " { on = 1 }
			on { print }
			$0 ~ "^E2E SCENARIO END " n " " { on = 0 }
			$0 ~ "^E2E SCENARIO REBOOT " n " " { on = 2 }
			on == 2 && /^E2E GUEST boot/ { on = 1 }' "$out/data.txt" >"$out/$n.txt"
		local t1 t2 dt result
		t1=$(sed -n "s/^E2E SCENARIO BEGIN $n (uptime \([0-9.]*\)s)/\1/p" "$out/$n.txt" | head -n1)
		t2=$(sed -n "s/^E2E SCENARIO END $n rc=[0-9]* (uptime \([0-9.]*\)s)/\1/p" "$out/$n.txt" | tail -n1)
		dt=$(awk -v a="$t1" -v b="$t2" 'BEGIN { if (a != "" && b != "" && b >= a) printf "%.0fs", b - a; else print "?" }')
		grep -q "^E2E SCENARIO REBOOT $n " "$out/$n.txt" && dt="$dt, across a reboot"
		result=$(grep '^E2E RESULT: ' "$out/$n.txt" | tail -n1)
		if [ "${result#E2E RESULT: PASS}" != "$result" ] && grep -q "^E2E SCENARIO END $n rc=0 " "$out/$n.txt"; then
			echo "PASS $n [$GUEST: ${guest:-?}] ($dt): ${result#E2E RESULT: PASS }"
		else
			# WAITS_FOR (scenario.conf): the behaviour it proves is another
			# item's, not landed yet; its failure is shown, not counted.
			local waits
			waits=$(sed -n 's/^WAITS_FOR=["'"'"']\{0,1\}\([^"'"'"']*\).*/\1/p' "$sc/scenario.conf" 2>/dev/null)
			if [ -n "$waits" ]; then
				pending=$((pending + 1))
				echo "FAIL $n [$GUEST: ${guest:-?}] ($dt), not counted: waits for $waits; transcript: $out/$n.txt"
			else
				failed=$((failed + 1))
				echo "FAIL $n [$GUEST: ${guest:-?}] ($dt); transcript: $out/$n.txt"
			fi
			if [ "${E2E_VERBOSE:-0}" = 0 ]; then
				grep -E '^  FAIL:|^E2E (RESULT|GUEST ERROR|WATCHDOG)' "$out/$n.txt" | sed 's/^/    /'
			fi
			if ! grep -q "^E2E SCENARIO END $n " "$out/$n.txt"; then
				echo "    the scenario did not finish; console tail:"
				tail -n 15 "$out/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/    /'
			fi
		fi
	done
	echo "e2e $GUEST: $(($# - failed - pending)) of $# scenarios passed in ${secs}s$([ $pending = 0 ] || echo "; $pending failed that wait for other work (WAITS_FOR)")"
	[ $failed = 0 ]
}
