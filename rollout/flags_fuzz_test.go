package rollout

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// FuzzSetMode: on any text, SetMode never panics; when it succeeds, every
// profile under the name has the mode (SetMode checks that itself), a second
// SetMode to the same mode changes nothing, and flipping back and forth
// returns the first flip's text.
func FuzzSetMode(f *testing.F) {
	f.Add([]byte(handWritten), "web")
	f.Add([]byte("/usr/bin/foo (complain,attach_disconnected) {\n}\n"), "/usr/bin/foo")
	f.Add([]byte("profile x flags=(audit,attach_disconnected) {\n  ^h flags=(complain) {\n  }\n}\n"), "x")
	for _, p := range []string{"/etc/apparmor.d/usr.sbin.dnsmasq", "/etc/apparmor.d/php-fpm"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "dnsmasq")
			f.Add(b, "php-fpm")
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, name string) {
		for _, mode := range []string{ModeComplain, ModeEnforce} {
			out, err := SetMode(src, name, mode)
			if err != nil {
				continue
			}
			again, err := SetMode(out, name, mode)
			if err != nil {
				t.Fatalf("SetMode(%s) of its own output failed: %v\n%s", mode, err, out)
			}
			if !bytes.Equal(out, again) {
				t.Fatalf("SetMode(%s) is not idempotent:\n%s\n---\n%s", mode, out, again)
			}
			other := ModeEnforce
			if mode == ModeEnforce {
				other = ModeComplain
			}
			flipped, err := SetMode(out, name, other)
			if err != nil {
				t.Fatalf("SetMode(%s) after SetMode(%s) failed: %v\n%s", other, mode, err, out)
			}
			back, err := SetMode(flipped, name, mode)
			if err != nil {
				t.Fatalf("flipping back failed: %v", err)
			}
			// The clause is rewritten from the parsed flags, so its
			// spelling may change (spaces, the form of a clause
			// apparmor_parser rejects); the flags themselves may not.
			if mode == ModeEnforce {
				if a, b := flagsOf(out, name), flagsOf(back, name); !reflect.DeepEqual(a, b) {
					t.Fatalf("enforce -> complain -> enforce changed the flags: %v -> %v\n%s\n---\n%s", a, b, out, back)
				}
			}
		}
	})
}

// flagsOf returns the flags of every profile under name, by full name.
func flagsOf(src []byte, name string) map[string][]string {
	f, err := parser.Parse(name, src)
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, top := range f.Profiles() {
		walk(top, top.DisplayName(), func(p *profiles.Profile, full string) {
			out[full] = append([]string{}, p.Flags...)
		})
	}
	return out
}
