// Command jsonq reads one JSON document from stdin and prints a Go
// text/template executed over it, the way docker's --format does: the
// guests have no JSON tool, and a scenario that checks a --json output
// must parse it, not grep it. Exit 2 when stdin is not exactly one JSON
// document or the template fails.
//
//	aa-flow check web --json | jsonq '{{.ok}} {{range .containers}}{{.name}}{{end}}'
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/template"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: jsonq TEMPLATE <DOCUMENT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "jsonq:", err)
		os.Exit(2)
	}
}

func run(tmpl string, in io.Reader, out io.Writer) error {
	t, err := template.New("jsonq").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(in)
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("stdin: more than one JSON document")
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("stdin: text after the JSON document")
	}
	return t.Execute(out, doc)
}
