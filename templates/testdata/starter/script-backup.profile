# backup: aa-flow starter profile (script template) for /usr/local/bin/backup.py.
#
# It starts in complain mode: nothing is denied, every access the profile does
# not allow yet is logged. Run the real workload, then
#   aa-flow learn backup      # propose rules from what was logged
#   aa-flow enforce backup    # once the complain window is clean
#
# abi/3.0 is pinned on purpose: rules keep the meaning they have under it
# on any kernel (under ABI 4 a bare "network" rule stops covering unix
# sockets), and learn proposes no rule it cannot express.
abi <abi/3.0>,

include <tunables/global>

profile backup /usr/local/bin/backup.py flags=(complain) {
  include <abstractions/base>
  include <abstractions/python>

  # The script, read by its interpreter (#!/usr/bin/env python3).
  /usr/local/bin/backup.py r,
  /usr/bin/env ix,
  /usr/bin/python3 ix,
  /usr/bin/python3.11 ix,

  # Site-specific additions, kept out of this file (see local/README).
  include if exists <local/backup>
}
