package policy_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/policy"
)

// id is the identity of a profile's accesses, as the gate's answer cache
// keys them.
func id(profile string, acc []policy.Access) []byte {
	b := []byte(profile + "\x00")
	for i := range acc {
		b = append(b, '|')
		b = acc[i].AppendID(b)
	}
	return b
}

// The gate's answer cache is keyed by AppendID: two different accesses
// must never share a key, or one's answer would be given for the other.
// Every field of Access counts (a field added to Access later must be added
// to the key, or this fails), and bytes moved from one field to the next,
// or from one access to the next, make another key.
func TestAccessIDTellsAccessesApart(t *testing.T) {
	base := policy.Access{Class: "file", Path: "/a"}
	baseKey := string(id("p", []policy.Access{base}))
	v := reflect.TypeOf(base)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			changed := base
			fv := reflect.ValueOf(&changed).Elem().Field(i)
			switch fv.Kind() {
			case reflect.String:
				fv.SetString(fv.String() + "x")
			case reflect.Bool:
				fv.SetBool(!fv.Bool())
			case reflect.Slice:
				fv.Set(reflect.ValueOf([]string{"x"}))
			default:
				require.Failf(t, "field kind not handled", "%s is a %s", f.Name, fv.Kind())
			}
			assert.NotEqual(t, baseKey, string(id("p", []policy.Access{changed})))
		})
	}

	pairs := []struct {
		name string
		a, b []policy.Access
		pa   string
		pb   string
	}{
		{"bytes moved between fields", []policy.Access{{Path: "ab"}}, []policy.Access{{Path: "a", Target: "b"}}, "p", "p"},
		{"bytes moved between list items", []policy.Access{{Access: []string{"ab"}}}, []policy.Access{{Access: []string{"a", "b"}}}, "p", "p"},
		{"bytes moved between lists", []policy.Access{{Access: []string{"a"}}}, []policy.Access{{Flags: []string{"a"}}}, "p", "p"},
		{"one access or two", []policy.Access{{Class: "file", Path: "/a"}}, []policy.Access{{Class: "file"}, {Path: "/a"}}, "p", "p"},
		{"profile and path", []policy.Access{{Path: "b"}}, []policy.Access{{Path: "ab"}}, "pa", "p"},
		{"separators inside values", []policy.Access{{Path: "1:a|"}}, []policy.Access{{Path: "1:a", Target: ""}}, "p", "p"},
	}
	for _, tt := range pairs {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotEqual(t, string(id(tt.pa, tt.a)), string(id(tt.pb, tt.b)))
		})
	}
}

// Records merge into one rule by AppendKey: only what a rule unites (file
// permissions and owner, a signal, access words of a class with members)
// may differ; an exec stays apart from the file's other permissions.
func TestAccessKeyMergesWhatARuleUnites(t *testing.T) {
	key := func(a policy.Access) string { return string(a.AppendKey(nil)) }
	same := [][2]policy.Access{
		{{Class: policy.ClassFile, Path: "/a", Perms: "r"}, {Class: policy.ClassFile, Path: "/a", Perms: "w", Owner: true}},
		{{Class: policy.ClassSignal, Access: []string{"send"}, Signal: "term", Peer: "p"}, {Class: policy.ClassSignal, Access: []string{"send"}, Signal: "kill", Peer: "p"}},
		{{Class: policy.ClassPtrace, Access: []string{"read"}, Peer: "p"}, {Class: policy.ClassPtrace, Access: []string{"trace"}, Peer: "p"}},
		{{Class: policy.ClassUnix, Access: []string{"send"}, Path: "@a"}, {Class: policy.ClassUnix, Access: []string{"connect"}, Path: "@a"}},
	}
	for _, p := range same {
		assert.Equal(t, key(p[0]), key(p[1]), "%+v and %+v", p[0], p[1])
	}
	apart := [][2]policy.Access{
		{{Class: policy.ClassFile, Path: "/a", Perms: "r"}, {Class: policy.ClassFile, Path: "/a", Perms: "x"}},
		{{Class: policy.ClassFile, Path: "/a", Perms: "r"}, {Class: policy.ClassFile, Path: "/b", Perms: "r"}},
		{{Class: policy.ClassSignal, Access: []string{"send"}, Signal: "term"}, {Class: policy.ClassSignal, Access: []string{"receive"}, Signal: "term"}},
		{{Class: policy.ClassDbus, Access: []string{"send"}, Member: "A"}, {Class: policy.ClassDbus, Access: []string{"receive"}, Member: "A"}},
		{{Class: policy.ClassMount, Path: "/m", Target: "/a"}, {Class: policy.ClassMount, Path: "/a", Target: "/m"}},
		{{Class: policy.ClassLink, Path: "/a", Target: "/b", Perms: "l"}, {Class: policy.ClassLink, Path: "/a", Target: "/c", Perms: "l"}},
	}
	for _, p := range apart {
		assert.NotEqual(t, key(p[0]), key(p[1]), "%+v and %+v", p[0], p[1])
	}
}

// A clone shares no memory with the access it was made from.
func TestAccessClone(t *testing.T) {
	buf := []byte("/srv/x")
	a := policy.Access{Class: policy.ClassFile, Path: string(buf), Access: []string{"a"}, Flags: []string{"ro"}}
	c := a.Clone()
	assert.Equal(t, a, c)
	a.Access[0], a.Flags[0] = "b", "rw"
	assert.Equal(t, []string{"a"}, c.Access)
	assert.Equal(t, []string{"ro"}, c.Flags)
}
