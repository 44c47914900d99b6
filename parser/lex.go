package parser

import (
	"fmt"
	"strings"
)

// tokenType is the type of a lexical token.
type tokenType int

const (
	tokError       tokenType = iota // a lexical error; val is the message
	tokEOF                          // end of input
	tokComment                      // '#' to the end of the line (not "#include")
	tokHashInclude                  // "#include"
	tokWord                         // an unquoted word: a path, keyword, name or value, escapes kept
	tokString                       // a double-quoted string, quotes included in val
	tokAngle                        // <path>, brackets included in val
	tokVarDef                       // @{NAME} at the start of an assignment
	tokEOL                          // the newline ending a variable assignment
	tokComma                        // ,
	tokLBrace                       // {
	tokRBrace                       // }
	tokLParen                       // (
	tokRParen                       // )
	tokEquals                       // =
	tokPlusEquals                   // +=
	tokArrow                        // ->
	tokLessEq                       // <=
)

var tokNames = map[tokenType]string{
	tokError: "error", tokEOF: "end of file", tokComment: "comment",
	tokHashInclude: "#include", tokWord: "word", tokString: "quoted string",
	tokAngle: "<path>", tokVarDef: "variable", tokEOL: "end of line",
	tokComma: "','", tokLBrace: "'{'", tokRBrace: "'}'", tokLParen: "'('",
	tokRParen: "')'", tokEquals: "'='", tokPlusEquals: "'+='", tokArrow: "'->'",
	tokLessEq: "'<='",
}

func (t tokenType) String() string {
	if s, ok := tokNames[t]; ok {
		return s
	}
	return fmt.Sprintf("token(%d)", int(t))
}

// token is one lexical item: its type, its exact source text and the byte
// offsets of its first character and of the character after its last.
type token struct {
	typ      tokenType
	val      string
	off, end int
}

func (t token) String() string {
	switch t.typ {
	case tokEOF, tokEOL:
		return t.typ.String()
	case tokError:
		return t.val
	}
	return fmt.Sprintf("%q", t.val)
}

const eof = -1

// lexer turns policy text into tokens. It is a set of state functions in the
// style of text/template/parse: each state scans some input, emits tokens
// and returns the next state. The language is mildly context-sensitive, so
// the lexer tracks two things itself: parenthesis depth (inside ( ) a comma
// separates values instead of ending a rule) and whether it is reading the
// values of a variable assignment (which end at the end of the line).
type lexer struct {
	src    string
	start  int // start of the token being scanned
	pos    int // current position
	parens int // depth of ( )
	toks   []token
}

type stateFn func(*lexer) stateFn

// lex scans src completely. The last token is tokEOF or tokError.
func lex(src string) []token {
	l := &lexer{src: src}
	for state := lexText; state != nil; {
		state = state(l)
	}
	return l.toks
}

func (l *lexer) next() int {
	if l.pos >= len(l.src) {
		l.pos = len(l.src) + 1 // so that backup works after eof
		return eof
	}
	c := l.src[l.pos]
	l.pos++
	return int(c)
}

func (l *lexer) backup() { l.pos-- }

// peekAt returns the character n bytes after the current position.
func (l *lexer) peekAt(n int) int {
	if l.pos+n >= len(l.src) {
		return eof
	}
	return int(l.src[l.pos+n])
}

// isWordChar reports whether c can continue an unquoted word after a comma.
func isWordChar(c int) bool {
	return c != eof && !isSpace(c) && c != '"' && c != '!' && c != ','
}

func (l *lexer) peek() int {
	if l.pos >= len(l.src) {
		return eof
	}
	return int(l.src[l.pos])
}

func (l *lexer) emit(t tokenType) {
	end := l.pos
	if end > len(l.src) {
		end = len(l.src)
	}
	l.toks = append(l.toks, token{typ: t, val: l.src[l.start:end], off: l.start, end: end})
	l.start = l.pos
}

func (l *lexer) ignore() { l.start = l.pos }

// errorf emits an error token at the start of the current token and stops.
func (l *lexer) errorf(format string, args ...any) stateFn {
	l.toks = append(l.toks, token{typ: tokError, val: fmt.Sprintf(format, args...), off: l.start, end: l.start})
	return nil
}

func isSpace(c int) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// lexText is the state between tokens.
func lexText(l *lexer) stateFn {
	for isSpace(l.peek()) {
		l.next()
	}
	l.ignore()
	rest := l.src[l.pos:]
	switch c := l.next(); {
	case c == eof:
		l.pos = len(l.src)
		l.emit(tokEOF)
		return nil
	case c == '#':
		if isHashInclude(rest) {
			l.pos += len("include") // '#' already read
			l.emit(tokHashInclude)
			return lexText
		}
		return lexComment
	case c == '"':
		return lexQuote
	case c == '{' && l.afterEquals():
		l.backup() // member={A,B}: a value, not a block
		return lexWord
	case c == '{':
		l.emit(tokLBrace)
	case c == '}':
		l.emit(tokRBrace)
	case c == '(':
		l.parens++
		l.emit(tokLParen)
	case c == ')':
		if l.parens > 0 {
			l.parens--
		}
		l.emit(tokRParen)
	case c == ',':
		l.emit(tokComma)
	case c == '=':
		l.emit(tokEquals)
	case strings.HasPrefix(rest, "+="):
		l.next()
		l.emit(tokPlusEquals)
	case strings.HasPrefix(rest, "<="):
		l.next()
		l.emit(tokLessEq)
	case strings.HasPrefix(rest, "->"):
		l.next()
		l.emit(tokArrow)
	case c == '<':
		return lexAngle
	case c == '@' && l.parens == 0 && isVarDef(rest):
		return lexVarDef
	default:
		l.backup()
		return lexWord
	}
	return lexText
}

// afterEquals reports whether the previous token is '=' and nothing but
// blanks on the same line separates it from the current position.
func (l *lexer) afterEquals() bool {
	if len(l.toks) == 0 {
		return false
	}
	last := l.toks[len(l.toks)-1]
	return last.typ == tokEquals && strings.TrimLeft(l.src[last.end:l.start], " \t") == ""
}

// isHashInclude reports whether s (starting at '#') is the "#include"
// directive rather than a comment.
func isHashInclude(s string) bool {
	if !strings.HasPrefix(s, "#include") {
		return false
	}
	r := s[len("#include"):]
	return r == "" || isSpace(int(r[0])) || r[0] == '<' || r[0] == '"'
}

// isVarDef reports whether s (starting at '@') is "@{NAME}" followed by
// optional blanks and '=' or '+=': the start of a variable assignment.
func isVarDef(s string) bool {
	if !strings.HasPrefix(s, "@{") {
		return false
	}
	i := strings.IndexByte(s, '}')
	if i < 0 || strings.ContainsAny(s[:i], " \t\r\n") {
		return false
	}
	r := strings.TrimLeft(s[i+1:], " \t")
	return strings.HasPrefix(r, "=") || strings.HasPrefix(r, "+=")
}

// lexComment scans '#' to the end of the line, the newline excluded.
func lexComment(l *lexer) stateFn {
	for c := l.peek(); c != '\n' && c != eof; c = l.peek() {
		l.next()
	}
	l.emit(tokComment)
	return lexText
}

// lexQuote scans a double-quoted string; '\' escapes the next character.
func lexQuote(l *lexer) stateFn {
	for {
		switch l.next() {
		case '\\':
			if l.next() == eof {
				return l.errorf("unterminated quoted string")
			}
		case eof:
			return l.errorf("unterminated quoted string")
		case '"':
			l.emit(tokString)
			return lexText
		}
	}
}

// lexAngle scans <path>, which ends on the same line.
func lexAngle(l *lexer) stateFn {
	for {
		switch c := l.next(); {
		case c == '>':
			l.emit(tokAngle)
			return lexText
		case c == eof || c == '\n':
			return l.errorf("unterminated <...>: missing '>'")
		}
	}
}

// lexVarDef scans @{NAME}, the assignment operator and then the values,
// which run to the end of the line (a backslash before the newline
// continues them on the next line).
func lexVarDef(l *lexer) stateFn {
	l.pos = l.start + strings.IndexByte(l.src[l.start:], '}') + 1
	l.emit(tokVarDef)
	for l.peek() == ' ' || l.peek() == '\t' {
		l.next()
	}
	l.ignore()
	if l.next() == '+' {
		l.next()
		l.emit(tokPlusEquals)
	} else {
		l.emit(tokEquals)
	}
	return lexAssign
}

// lexAssign scans the values of a variable assignment.
func lexAssign(l *lexer) stateFn {
	for {
		c := l.peek()
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			l.next()
			l.ignore()
		case c == '\\' && strings.HasPrefix(l.src[l.pos:], "\\\n"):
			l.pos += 2
			l.ignore()
		case c == '\n' || c == eof:
			l.emit(tokEOL) // empty: positioned at the end of the values
			return lexText
		case c == '#':
			l.next()
			lexComment(l)
		case c == '"':
			l.next()
			if lexQuote(l) == nil {
				return nil
			}
		default:
			scanWord(l, true)
			if l.pos == l.start {
				l.next()
			}
			l.emit(tokWord)
		}
	}
}

// lexWord scans an unquoted word.
func lexWord(l *lexer) stateFn {
	scanWord(l, false)
	if l.pos == l.start {
		// A character no state accepts alone: take it as a one-character
		// word so the parser can report it.
		l.next()
	}
	l.emit(tokWord)
	return lexText
}

// scanWord advances over an unquoted word. A word ends at a blank, a quote
// or a comma, except that a comma inside a {a,b} alternation belongs to the
// word. Inside parentheses '=', '(' and ')' also end a word; outside them
// '=' ends a word that is not a path (flags=, peer=, set=), and "->" always
// does. A backslash escapes the next character. In an assignment (assign)
// '=' and parentheses are ordinary characters.
func scanWord(l *lexer, assign bool) {
	braces := 0
	path := l.peek() == '/' || l.peek() == '@'
	value := l.afterEquals()
	for {
		c := l.peek()
		switch {
		case c == eof || isSpace(c) || c == '"':
			return
		case c == '\\':
			l.next()
			if n := l.peek(); n != eof {
				l.next()
			}
			continue
		case c == '{':
			braces++
		case c == '}':
			if braces == 0 && l.pos == l.start {
				return
			}
			if braces > 0 {
				braces--
			}
		case c == ',':
			// A comma ends the word unless it is inside a {a,b}
			// alternation or, as apparmor_parser reads it, sits in a
			// path or a key= value outside parentheses directly before
			// another word character (fstype=ext3,ext4; @{V},x where V
			// holds the alternation's start).
			if braces == 0 && !assign && !((path || value) && l.parens == 0 && isWordChar(l.peekAt(1))) {
				return
			}
		case c == '-' && braces == 0 && strings.HasPrefix(l.src[l.pos:], "->"):
			return
		case assign:
		case c == '=' && (l.parens > 0 || !path):
			return
		case (c == '(' || c == ')') && l.parens > 0:
			return
		case c == '#' && l.pos == l.start:
			return
		case c == '<' && !path:
			return
		}
		l.next()
	}
}
