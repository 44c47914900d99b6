package aaparser

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionOfInstalledParser(t *testing.T) {
	needParser(t)
	v, err := (&Runner{}).Version(context.Background())
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^\d+\.\d+(\.\d+)?`), v)
}

func TestVersionOutput(t *testing.T) {
	for _, tc := range []struct {
		out, want, err string
	}{
		{out: "AppArmor parser version 4.1.0~beta5\nCopyright (C) 1999-2008 Novell Inc.\n", want: "4.1.0~beta5"},
		{out: "something else\n", err: `p --version: "something else" does not name a version`},
		{out: "", err: `p --version: "" does not name a version`},
	} {
		r := &Runner{Path: "p", Exec: func(_ context.Context, name string, args []string, _ []byte) ([]byte, []byte, error) {
			assert.Equal(t, []string{"--version"}, args, "no -M or -I for --version")
			return []byte(tc.out), nil, nil
		}, IncludeDirs: []string{"/x"}, FeaturesFile: "/y"}
		v, err := r.Version(context.Background())
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, v)
	}
}

func TestVersionMissingParser(t *testing.T) {
	_, err := (&Runner{Path: "/nonexistent/apparmor_parser"}).Version(context.Background())
	var pe *Error
	require.True(t, errors.As(err, &pe))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
