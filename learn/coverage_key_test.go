package learn

import (
	"reflect"
	"testing"

	"github.com/aa-flow/aa-flow/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The gate's answer cache is keyed by accessKey: two different accesses
// must never share a key, or one's answer would be given for the other.
// Every field of Access counts (a field added to Access later must be added
// to the key, or this fails), and bytes moved from one field to the next,
// or from one access to the next, make another key.
func TestAccessKeyTellsAccessesApart(t *testing.T) {
	base := policy.Access{Class: "file", Path: "/a"}
	baseKey := string(accessKey(nil, "p", []policy.Access{base}))
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
			assert.NotEqual(t, baseKey, string(accessKey(nil, "p", []policy.Access{changed})))
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
			assert.NotEqual(t, string(accessKey(nil, tt.pa, tt.a)), string(accessKey(nil, tt.pb, tt.b)))
		})
	}
}
