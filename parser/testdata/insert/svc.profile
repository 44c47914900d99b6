# Person's own header comment.
abi <abi/3.0>,
include <tunables/global>

profile svc /usr/bin/svc flags=(complain) {
  include <abstractions/base>

  # keep this comment
  /etc/svc.conf r,   # trailing

  ^worker {
    /var/lib/svc/ r,
  }
}

profile oneline { /x r, }
