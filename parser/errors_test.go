package parser

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrors: bad input is refused with the file, line and column of the
// offending text and a message saying what is wrong.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{
			name: "unterminated quote",
			src:  "profile p {\n  \"/tmp/open r,\n}\n",
			line: 2, col: 3,
			msg: "unterminated quoted string",
		},
		{
			// apparmor_parser reads an include's path on its line only
			// (found by FuzzFormat: "#include #" then "0" became a
			// comment and an include of "0").
			name: "include path on the next line",
			src:  "#include #\n0\n",
			line: 1, col: 1,
			msg: "include without a path on its line",
		},
		{
			name: "include if exists without a path",
			src:  "include if exists\n<tunables/global>\n",
			line: 1, col: 1,
			msg: "include without a path on its line",
		},
		{
			// Found by FuzzFormat: "+" then "=0" was a condition,
			// written back as "+=0".
			name: "condition key not a word",
			src:  "profile p {\n  unix + =0,\n}\n",
			line: 2, col: 8,
			msg: `"+" is not a condition name (a word such as addr, label, peer)`,
		},
		{
			name: "missing comma",
			src:  "profile p {\n  /etc/passwd r\n  /etc/group r,\n}\n",
			line: 3, col: 3,
			msg: `unexpected "/etc/group", want ',' to end the file rule`,
		},
		{
			name: "missing comma before closing brace",
			src:  "profile p {\n  capability chown\n}\n",
			line: 3, col: 1,
			msg: `unexpected "}", want a capability name or ','`,
		},
		{
			name: "unbalanced braces: missing close",
			src:  "profile p {\n  /etc/passwd r,\n  ^hat {\n    /x r,\n}\n",
			line: 6, col: 1,
			msg: "unexpected end of file: missing '}' to close the block opened at x:1:11",
		},
		{
			name: "unbalanced braces: extra close",
			src:  "profile p {\n  /etc/passwd r,\n}\n}\n",
			line: 4, col: 1,
			msg: "unexpected '}' with no open block",
		},
		{
			name: "unknown qualifier",
			src:  "profile p {\n  audti /etc/passwd r,\n}\n",
			line: 2, col: 3,
			msg: `unknown rule or qualifier "audti"`,
		},
		{
			name: "unknown rule after a qualifier",
			src:  "profile p {\n  deny  frobnicate,\n}\n",
			line: 2, col: 9,
			msg: `unknown rule "frobnicate"`,
		},
		{
			name: "bad permission",
			src:  "/usr/bin/x {\n  /etc/passwd rq,\n}\n",
			line: 2, col: 15,
			msg: `invalid permissions "rq"`,
		},
		{
			name: "exec modifier without x",
			src:  "/usr/bin/x {\n  /bin/sh rP,\n}\n",
			line: 2, col: 11,
			msg: `invalid permissions "rP": "P" is not followed by x`,
		},
		{
			name: "conflicting exec modes",
			src:  "/usr/bin/x {\n  /bin/sh Pxix,\n}\n",
			line: 2, col: 11,
			msg: `invalid permissions "Pxix": conflicting exec modes "Px" and "ix"`,
		},
		{
			name: "unterminated angle include",
			src:  "#include <tunables/global\n/x {\n}\n",
			line: 1, col: 10,
			msg: "unterminated <...>: missing '>'",
		},
		{
			name: "include without path",
			src:  "include\n",
			line: 2, col: 1,
			msg: "unexpected end of file, want the included file as <path> or \"path\"",
		},
		{
			name: "rlimit without <=",
			src:  "/x {\n  set rlimit nofile 10,\n}\n",
			line: 2, col: 21,
			msg: `unexpected "10", want '<=' after the rlimit resource`,
		},
		{
			name: "unterminated raw construct",
			src:  "/x {\n  if $foo {\n    /x r,\n",
			line: 2, col: 3,
			msg: "unterminated statement: no ',' or '}' before the end of the file",
		},
		{
			name: "stray comma",
			src:  "/x {\n  ,\n}\n",
			line: 2, col: 3,
			msg: `unexpected ",", want a rule, profile or preamble statement`,
		},
		{
			name: "profile header without body",
			src:  "profile foo flags=(complain),\n",
			line: 1, col: 29,
			msg: `unexpected ",", want '{' to open the profile body, flags= or xattrs=`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x", []byte(tt.src))
			require.Error(t, err)
			var perr *Error
			require.True(t, errors.As(err, &perr), "error %v is not a *parser.Error", err)
			assert.Equal(t, "x", perr.Pos.File)
			assert.Equal(t, tt.line, perr.Pos.Line, "line: %v", err)
			assert.Equal(t, tt.col, perr.Pos.Col, "column: %v", err)
			assert.Equal(t, tt.msg, perr.Msg)
			assert.Equal(t, perr.Pos.String()+": "+tt.msg, err.Error())
		})
	}
}
