package parser

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// tokStrings renders tokens as "type:text@offset" for compact comparison.
func tokStrings(toks []token) []string {
	var out []string
	for _, t := range toks {
		out = append(out, fmt.Sprintf("%s:%s@%d", t.typ, t.val, t.off))
	}
	return out
}

func TestLex(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{`/a/{b,c} r,`, []string{"word:/a/{b,c}@0", "word:r@9", "',':,@10", "end of file:@11"}},
		{`/tmp/with\ space r,`, []string{`word:/tmp/with\ space@0`, "word:r@17", "',':,@18", "end of file:@19"}},
		{`"/q\"x" r, # c`, []string{`quoted string:"/q\"x"@0`, "word:r@8", "',':,@9", "comment:# c@11", "end of file:@14"}},
		{"#include <a/b>\n#x", []string{"#include:#include@0", "<path>:<a/b>@9", "comment:#x@15", "end of file:@17"}},
		{"@{V} += a {b,c} \\\n d # c\n/x", []string{"variable:@{V}@0", "'+=':+=@5", "word:a@8", "word:{b,c}@10", "word:d@19", "comment:# c@21", "end of line:@24", "word:/x@25", "end of file:@27"}},
		{`signal (send, receive) set=(hup int) peer=foo,`, []string{
			"word:signal@0", "'(':(@7", "word:send@8", "',':,@12", "word:receive@14", "')':)@21",
			"word:set@23", "'=':=@26", "'(':(@27", "word:hup@28", "word:int@32", "')':)@35",
			"word:peer@37", "'=':=@41", "word:foo@42", "',':,@45", "end of file:@46"}},
		{`member={A,B} fstype=ext3,ext4 /x Px->y,`, []string{
			"word:member@0", "'=':=@6", "word:{A,B}@7", "word:fstype@13", "'=':=@19", "word:ext3,ext4@20",
			"word:/x@30", "word:Px@33", "'->':->@35", "word:y@37", "',':,@38", "end of file:@39"}},
		{`set rlimit nofile <= 10,`, []string{"word:set@0", "word:rlimit@4", "word:nofile@11", "'<=':<=@18", "word:10@21", "',':,@23", "end of file:@24"}},
		{`profile p flags=(complain) {}`, []string{"word:profile@0", "word:p@8", "word:flags@10", "'=':=@15", "'(':(@16", "word:complain@17", "')':)@25", "'{':{@27", "'}':}@28", "end of file:@29"}},
		{`"open`, []string{"error:unterminated quoted string@0"}},
		{"include <a\n", []string{"word:include@0", "error:unterminated <...>: missing '>'@8"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			assert.Equal(t, tt.want, tokStrings(lex(tt.src)))
		})
	}
}
