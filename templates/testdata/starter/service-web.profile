# web: aa-flow starter profile (service template) for /usr/sbin/web.
#
# It starts in complain mode: nothing is denied, every access the profile does
# not allow yet is logged. Run the real workload, then
#   aa-flow learn web      # propose rules from what was logged
#   aa-flow enforce web    # once the complain window is clean
#
# abi/3.0 is pinned on purpose: rules keep the meaning they have under it
# on any kernel (under ABI 4 a bare "network" rule stops covering unix
# sockets), and learn proposes no rule it cannot express.
abi <abi/3.0>,

include <tunables/global>

profile web /usr/sbin/web flags=(complain) {
  include <abstractions/base>
  include <abstractions/nameservice>

  /usr/sbin/web mr,

  # Site-specific additions, kept out of this file (see local/README).
  include if exists <local/web>
}
