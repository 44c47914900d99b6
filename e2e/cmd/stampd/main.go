// Command stampd is the e2e workload of a service whose file names change on
// every run: each run reads its configuration, works in a fresh mktemp
// directory (/tmp/stampd-NNNN), writes a timestamped archive
// (/var/backups/stampd/archive-EPOCH.tar.gz) and a job record named by a
// random UUID (/var/lib/stampd/jobs/UUID.json), and removes the work
// directory. A profile learned from two runs must cover the third.
//
//	stampd              one run
//	stampd --read FILE  print FILE (what the learned profile must deny)
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--read" {
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "stampd:", err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stampd:", err)
		os.Exit(1)
	}
}

func run() error {
	conf, err := os.ReadFile("/etc/stampd.conf")
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("/tmp", "stampd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	part := filepath.Join(work, "payload")
	if err := os.WriteFile(part, conf, 0o600); err != nil {
		return err
	}
	payload, err := os.ReadFile(part)
	if err != nil {
		return err
	}
	archive := fmt.Sprintf("/var/backups/stampd/archive-%d.tar.gz", time.Now().Unix())
	if err := os.WriteFile(archive, payload, 0o640); err != nil {
		return err
	}
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	job := filepath.Join("/var/lib/stampd/jobs", id+".json")
	rec := fmt.Sprintf("{\"archive\":%q,\"bytes\":%d}\n", archive, len(payload))
	if err := os.WriteFile(job, []byte(rec), 0o640); err != nil {
		return err
	}
	fmt.Printf("stampd: wrote %s and %s\n", archive, job)
	return nil
}
