package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/rollout/rollouttest"
)

// TestMain lets the test binary be aa-flow itself, and a stand-in
// apparmor_parser that compiles with the real one and loads into the fake
// securityfs under $WORK/sys, for the transcripts in testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"aa-flow":              func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"fake-apparmor_parser": func() { os.Exit(fakeParser()) },
		"json-objects":         func() { os.Exit(jsonObjects(os.Args[1:])) },
	})
}

// jsonObjects is "json-objects N FILE": FILE holds exactly N JSON objects
// and nothing else (N may be "any").
func jsonObjects(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: json-objects N|any FILE")
		return 2
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: object %d: %v\n", args[1], n+1, err)
			return 1
		}
		n++
	}
	if args[0] != "any" && args[0] != strconv.Itoa(n) {
		fmt.Fprintf(os.Stderr, "%s: %d JSON objects, want %s\n", args[1], n, args[0])
		return 1
	}
	fmt.Printf("%d JSON object(s)\n", n)
	return 0
}

// fakeParser is apparmor_parser compiling with the real one and loading into
// the fake securityfs at $AAFLOW_FAKE_SECFS.
func fakeParser() int {
	k, err := rollouttest.New(os.Getenv("AAFLOW_FAKE_SECFS"), rollout.ModeOf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	args := os.Args[1:]
	var stdin []byte
	if len(args) > 0 && !filepath.IsAbs(args[len(args)-1]) {
		var b bytes.Buffer
		_, _ = b.ReadFrom(os.Stdin)
		stdin = b.Bytes()
	}
	out, errb, err := k.Exec(context.Background(), "apparmor_parser", args, stdin)
	os.Stdout.Write(out)
	os.Stderr.Write(errb)
	if err != nil {
		return 1
	}
	return 0
}

// TestScripts runs the command transcripts in testdata/script: each sets
// up a profile directory, state directory and fake securityfs under $WORK
// and runs aa-flow as a user would; $CORPUS is testdata/corpus.
func TestScripts(t *testing.T) {
	corpus := testutil.Corpus(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			w := e.WorkDir
			for _, d := range []string{"apparmor.d", "state"} {
				if err := os.MkdirAll(filepath.Join(w, d), 0o755); err != nil {
					return err
				}
			}
			secfs := filepath.Join(w, "sys")
			if _, err := rollouttest.New(secfs, rollout.ModeOf); err != nil {
				return err
			}
			e.Setenv("AAFLOW_FAKE_SECFS", secfs)
			e.Setenv(envProfileDir, filepath.Join(w, "apparmor.d"))
			e.Setenv(envStateDir, filepath.Join(w, "state"))
			e.Setenv(envParser, "fake-apparmor_parser")
			e.Setenv("SECFS", secfs)
			e.Setenv("CORPUS", corpus)
			return nil
		},
	})
}
