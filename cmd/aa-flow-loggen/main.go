// Command aa-flow-loggen writes a generated AppArmor log (see
// internal/loggen) for benchmarks and tests.
//
//	aa-flow-loggen -n 200000 -format audit -seed 1 > audit.log
//	aa-flow-loggen -n 200000 -workload volatile -day 2 > day2.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/aa-flow/aa-flow/internal/loggen"
)

func main() {
	n := flag.Int("n", 100000, "AppArmor records to write")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same log)")
	format := flag.String("format", "audit", "audit, syslog, kmsg, journal (journalctl -o json) or export (journal export format)")
	out := flag.String("o", "-", "output file (- for stdout)")
	workload := flag.String("workload", "", "what the service does: \"\" (fixed names), volatile (names that change from run to run) or distinct (a new file in every record)")
	day := flag.Int("day", 1, "the run of a volatile service: new pids and random names each day")
	flag.Parse()
	opt := loggen.Options{Records: *n, Seed: *seed, Format: loggen.Format(*format), Workload: loggen.Workload(*workload), Day: *day}
	if err := run(opt, *out); err != nil {
		fmt.Fprintln(os.Stderr, "aa-flow-loggen:", err)
		os.Exit(1)
	}
}

func run(opt loggen.Options, out string) error {
	w := os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	st, err := loggen.Write(bw, opt)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if out != "-" {
		if err := w.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%d records, %d companions, %d unrelated, %d lines\n", st.Records, st.Companions, st.Noise, st.Lines)
	return nil
}
