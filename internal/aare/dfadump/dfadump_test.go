package dfadump

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A dump as apparmor_parser 3.0.8 prints it for "owner /a/* r, /a/b w,".
const sample = `Cache read/write disabled: interface file missing. (Kernel needs AppArmor 2.4 compatibility patch.)
{1} <== (allow/deny/audit/quiet)
{5} (0x 4/0/0/0)
{6} (0x 2800e/0/0/0)

{1} perms: none
    / 0x2f -> {2}
{2} perms: none
    a 0x61 -> {3}
{3} perms: none
    / 0x2f -> {4}
{4} perms: none
    b 0x62 -> {6}  (0x 2800e/0/0/0)
    [^\x0/b] -> {5}
{5} perms: none
    [^\x0/] -> {5}
{6} perms: none
    [^\x0/] -> {5}
`

func TestParseAndRun(t *testing.T) {
	d, err := Parse(sample)
	require.NoError(t, err)
	p, ok := d.Run("/a/x")
	require.True(t, ok)
	assert.True(t, p.Granted(PermRead, true))
	assert.False(t, p.Granted(PermRead, false), "an owner rule grants nothing to others")
	p, ok = d.Run("/a/b")
	require.True(t, ok)
	assert.True(t, p.Granted(PermWrite, false))
	assert.True(t, p.Granted(PermAppend, true))
	_, ok = d.Run("/a/")
	assert.False(t, ok)
	_, ok = d.Run("/a/x/y")
	assert.False(t, ok)

	_, err = Parse("{1} <== (allow/deny/audit/quiet)\n\n{1} perms: none\n    garbage\n")
	assert.ErrorContains(t, err, "dump line 4")
}

func TestParseClass(t *testing.T) {
	s, err := parseClass(`^\x0/`)
	require.NoError(t, err)
	assert.False(t, s[0])
	assert.False(t, s['/'])
	assert.True(t, s['a'])
	s, err = parseClass(`a-c\]`)
	require.NoError(t, err)
	assert.True(t, s['b'])
	assert.True(t, s[']'])
	assert.False(t, s['d'])
	s, err = parseClass("")
	require.NoError(t, err)
	assert.True(t, s[0])
}
