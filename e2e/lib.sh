# shellcheck shell=bash
# e2e/lib.sh: the host half of aa-flow's end-to-end harness, sourced by e2e/run,
# e2e/run-all and e2e/demo. It fetches Debian's own kernel (AppArmor built in),
# builds the static guest programs, packs an initramfs and boots it under qemu.
#
# Layout of the guest (a Debian-like usr-merged tree, so paths in profiles look
# like a real host's):
#   /init                    e2e/guest/init: mounts, starts the scenario's log source
#   /e2e/flow                e2e/guest/flow: the workflow and its checks
#   /e2e/scenario/           the scenario directory (scenario.conf, workload, forbidden, ...)
#   /usr/bin/aa-flow         the static aa-flow under test (bin/aa-flow)
#   /usr/bin/<prog>          e2e/cmd/<prog>, static Go programs the scenario asks for
#   /usr/bin/busybox + links, /usr/sbin/apparmor_parser + its libraries,
#   /etc/apparmor{,.d}, /usr/share/apparmor-features (the parser needs them)
#
# Facts this relies on (see ../../shared/vm/): -accel tcg -cpu max (the KVM here is
# nested PVM and hangs a stock kernel); /dev/console in the initramfs; a second
# serial port is the data channel (/dev/ttyS1 in the guest).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/.." && pwd)
WORK=${E2E_WORK:-$E2E_DIR/work}
# The kernel package is cached outside the tree so a fresh checkout reuses it.
# (Not root: the work directory instead.)
CACHE=${E2E_CACHE:-/var/cache/aa-flow-e2e}
if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	CACHE=$WORK/cache
fi
E2E_TIMEOUT=${E2E_TIMEOUT:-330}

log() { printf '[e2e] %s\n' "$*" >&2; }
die() { printf '[e2e] error: %s\n' "$*" >&2; exit 1; }

# e2e_kernel prints the path of Debian's vmlinuz, downloading the package that
# linux-image-amd64 depends on the first time.
e2e_kernel() {
	mkdir -p "$CACHE"
	local k
	k=$(ls "$CACHE"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
	if [ -z "$k" ]; then
		local pkg
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
		if [ -z "$pkg" ]; then
			apt-get update -qq
			pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
		fi
		[ -n "$pkg" ] || die "cannot find the package linux-image-amd64 depends on"
		log "downloading $pkg (once; cached in $CACHE)"
		(cd "$CACHE" && apt-get download "$pkg" >download.log 2>&1) || { cat "$CACHE/download.log" >&2; die "apt-get download $pkg failed"; }
		dpkg-deb --fsys-tarfile "$CACHE/${pkg}"_*.deb | tar -x -C "$CACHE" ./boot
		rm -f "$CACHE/${pkg}"_*.deb
		k=$(ls "$CACHE"/boot/vmlinuz-* | head -n1)
	fi
	printf '%s\n' "$k"
}

# e2e_build builds the static binaries (aa-flow and every e2e/cmd program) into
# $WORK/bin and the shared base initramfs $WORK/base.cpio.gz. It holds a lock so
# parallel runs build once.
e2e_build() {
	mkdir -p "$WORK/bin"
	(
		flock 9
		cd "$REPO"
		if [ "${E2E_SRC:-tree}" = head ]; then
			# E2E_SRC=head: test the last commit, not the working tree
			# (useful while others edit the tree).
			local ver
			ver=$(git describe --tags --always 2>/dev/null || echo dev)
			rm -rf "$WORK/src" && mkdir -p "$WORK/src"
			git archive HEAD | tar -x -C "$WORK/src"
			cd "$WORK/src"
			CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$ver" -o "$WORK/bin/aa-flow.tmp" ./cmd/aa-flow ||
				die "go build aa-flow (HEAD) failed"
			mv "$WORK/bin/aa-flow.tmp" "$WORK/bin/aa-flow"
		else
			# The same static binary `make build` makes (CGO_ENABLED=0, bin/aa-flow).
			make -s build >&2 || die "make build failed"
			cp bin/aa-flow "$WORK/bin/aa-flow.tmp"
			mv "$WORK/bin/aa-flow.tmp" "$WORK/bin/aa-flow"
		fi
		for d in "$E2E_DIR"/cmd/*/; do
			CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$WORK/bin/$(basename "$d").tmp" "./e2e/cmd/$(basename "$d")" ||
				die "go build $d failed"
			mv "$WORK/bin/$(basename "$d").tmp" "$WORK/bin/$(basename "$d")"
		done
		e2e_base
	) 9>"$WORK/.build.lock"
}

# e2e_base packs what every guest shares: busybox, apparmor_parser and its
# libraries, AppArmor's configuration, the guest scripts. Rebuilt when any
# input is newer than the archive.
e2e_base() {
	local out=$WORK/base.cpio.gz
	if [ -f "$out" ] && [ -z "$(find "$E2E_DIR/guest" /usr/sbin/apparmor_parser /etc/apparmor.d/abstractions "$E2E_DIR/lib.sh" -newer "$out" -print -quit)" ]; then
		return 0
	fi
	local R=$WORK/base
	rm -rf "$R"
	mkdir -p "$R"/usr/{bin,sbin,lib,lib64,share} "$R"/{proc,sys,dev,tmp,run,root,e2e} \
		"$R"/etc/apparmor.d "$R"/var/{log,lib,cache/apparmor,tmp}
	ln -s usr/bin "$R/bin"
	ln -s usr/sbin "$R/sbin"
	ln -s usr/lib "$R/lib"
	ln -s usr/lib64 "$R/lib64"
	cp /usr/bin/busybox "$R/usr/bin/busybox"
	local a
	for a in $(/usr/bin/busybox --list); do
		[ -e "$R/usr/bin/$a" ] || ln -s busybox "$R/usr/bin/$a"
	done
	cp /usr/sbin/apparmor_parser "$R/usr/sbin/"
	local lib
	for lib in $(ldd /usr/sbin/apparmor_parser | grep -o '/[^ ]*'); do
		lib=${lib#/usr}
		mkdir -p "$R/usr$(dirname "$lib")"
		cp -L "$lib" "$R/usr$lib"
	done
	cp -a /etc/apparmor.d/abi /etc/apparmor.d/tunables /etc/apparmor.d/abstractions "$R/etc/apparmor.d/"
	mkdir -p "$R/etc/apparmor.d/local" "$R/etc/apparmor.d/disable" "$R/etc/apparmor.d/force-complain"
	cp -a /etc/apparmor "$R/etc/"
	cp -a /usr/share/apparmor-features "$R/usr/share/"
	mknod -m 600 "$R/dev/console" c 5 1
	mknod -m 666 "$R/dev/null" c 1 3
	echo guest >"$R/etc/hostname"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
	echo 'root:$6$e2e$notarealpasswordhash:19000:0:99999:7:::' >"$R/etc/shadow"
	chmod 640 "$R/etc/shadow"
	printf '127.0.0.1 localhost guest\n' >"$R/etc/hosts"
	cp "$E2E_DIR/guest/init" "$R/init"
	cp "$E2E_DIR/guest/flow" "$R/e2e/flow"
	cp "$E2E_DIR/guest/checks.sh" "$R/e2e/checks.sh"
	chmod 755 "$R/init" "$R/e2e/flow"
	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
	mv "$out.tmp" "$out"
}

# e2e_initrd SCENARIO_DIR OUT builds the scenario's initramfs: the shared base
# followed by a second archive (the kernel unpacks concatenated archives in
# order) holding aa-flow, the scenario and the programs it lists.
e2e_initrd() {
	local sc=$1 out=$2
	local R
	R=$(mktemp -d "$WORK/overlay.XXXXXX")
	mkdir -p "$R/usr/bin" "$R/e2e/scenario"
	cp "$WORK/bin/aa-flow" "$WORK/bin/auditd-lite" "$R/usr/bin/"
	cp -a "$sc/." "$R/e2e/scenario/"
	rm -rf "$R/e2e/scenario/root"
	if [ -d "$sc/root" ]; then
		cp -a "$sc/root/." "$R/"
	fi
	local p
	# shellcheck disable=SC1091
	for p in $(. "$sc/scenario.conf" && echo "${PROGRAMS:-}"); do
		[ -x "$WORK/bin/$p" ] || die "$sc: PROGRAMS names $p, but e2e/cmd/$p does not exist"
		cp "$WORK/bin/$p" "$R/usr/bin/"
	done
	{
		cat "$WORK/base.cpio.gz"
		(cd "$R" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1)
	} >"$out"
	rm -rf "$R"
}

# e2e_boot KERNEL INITRD OUTDIR boots the guest; the console goes to
# OUTDIR/console.log and the data channel (guest /dev/ttyS1) to OUTDIR/data.log.
e2e_boot() {
	local kernel=$1 initrd=$2 out=$3 extra=${4:-}
	rm -f "$out/console.log" "$out/data.log"
	timeout "$E2E_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 768 -smp 1 \
		-display none -monitor none -no-reboot -nodefaults \
		-serial "file:$out/console.log" -serial "file:$out/data.log" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4 apparmor=1 security=apparmor audit_backlog_limit=8192 log_buf_len=4M $extra"
}
