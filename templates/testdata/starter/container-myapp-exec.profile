# myapp: aa-flow starter profile (container template) for /app/server.
#
# It starts in complain mode: nothing is denied, every access the profile does
# not allow yet is logged. Run the real workload, then
#   aa-flow learn myapp      # propose rules from what was logged
#   aa-flow enforce myapp    # once the complain window is clean
#
# abi/3.0 is pinned on purpose: rules keep the meaning they have under it
# on any kernel (under ABI 4 a bare "network" rule stops covering unix
# sockets), and learn proposes no rule it cannot express.
abi <abi/3.0>,

include <tunables/global>

# A container runtime applies this profile by name
# (docker run --security-opt apparmor=myapp); it has no attachment.
# attach_disconnected and mediate_deleted are what container paths need.
profile myapp flags=(attach_disconnected, mediate_deleted, complain) {
  include <abstractions/base>

  /app/server mr,

  # docker stop and docker kill: the signal comes from runc, which runs
  # under its own profile "runc" on Debian 13 and unconfined on Debian 12
  # (containerd and dockerd run unconfined). Without these rules the stop
  # signal is refused and docker stop waits out its grace period, then kills.
  signal (receive) peer=runc,
  signal (receive) peer=unconfined,
  # The container's own processes signal each other and read each other's
  # /proc entries (ps, a shell's job control); tracing them is not allowed.
  signal (send, receive) peer=myapp,
  ptrace (read) peer=myapp,

  # Site-specific additions, kept out of this file (see local/README).
  include if exists <local/myapp>
}
