package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name, tmpl, in, want, err string
	}{
		{"fields", `{{.ok}} {{range .items}}{{.id}}={{.status}} {{end}}`, `{"ok":false,"items":[{"id":"apparmor","status":"fail"},{"id":"userns","status":"warn"}]}`, "false apparmor=fail userns=warn ", ""},
		{"missing key", `{{.nope}}`, `{"ok":true}`, "", "nope"},
		{"not JSON", `{{.}}`, `ok`, "", "stdin"},
		{"two documents", `{{.}}`, `{} {}`, "", "more than one"},
		{"trailing text", `{{.}}`, `{}]`, "", "after the JSON document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			err := run(tc.tmpl, strings.NewReader(tc.in), &b)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tc.want, b.String())
		})
	}
}
