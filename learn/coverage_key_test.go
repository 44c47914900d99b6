package learn

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/profiles"
)

// The gate's answer cache is keyed by accessKey: two different accesses
// must never share a key, or one's answer would be given for the other.
// Every field of Access counts (a field added to Access later must be added
// to the key, or this fails), and bytes moved from one field to the next,
// or from one access to the next, make another key.
func TestAccessKeyTellsAccessesApart(t *testing.T) {
	base := profiles.Access{Class: "file", Path: "/a"}
	baseKey := string(accessKey(nil, "p", []profiles.Access{base}))
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
			assert.NotEqual(t, baseKey, string(accessKey(nil, "p", []profiles.Access{changed})))
		})
	}

	pairs := []struct {
		name string
		a, b []profiles.Access
		pa   string
		pb   string
	}{
		{"bytes moved between fields", []profiles.Access{{Path: "ab"}}, []profiles.Access{{Path: "a", Target: "b"}}, "p", "p"},
		{"bytes moved between list items", []profiles.Access{{Access: []string{"ab"}}}, []profiles.Access{{Access: []string{"a", "b"}}}, "p", "p"},
		{"bytes moved between lists", []profiles.Access{{Access: []string{"a"}}}, []profiles.Access{{Flags: []string{"a"}}}, "p", "p"},
		{"one access or two", []profiles.Access{{Class: "file", Path: "/a"}}, []profiles.Access{{Class: "file"}, {Path: "/a"}}, "p", "p"},
		{"profile and path", []profiles.Access{{Path: "b"}}, []profiles.Access{{Path: "ab"}}, "pa", "p"},
		{"separators inside values", []profiles.Access{{Path: "1:a|"}}, []profiles.Access{{Path: "1:a", Target: ""}}, "p", "p"},
	}
	for _, tt := range pairs {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotEqual(t, string(accessKey(nil, tt.pa, tt.a)), string(accessKey(nil, tt.pb, tt.b)))
		})
	}
}
