// Command webd is the end-to-end tests' small web service: it serves static
// files, answers a JSON API and keeps an access log and a notes file, so that
// aa-flow has a realistic server to learn (file reads and writes, inet
// sockets, signals). It also has a deliberate hole, /debug/read?path=, that
// reads any file: the "forbidden action" an enforced profile must deny.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "webd:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	root := flag.String("root", "/srv/www", "directory of static files")
	state := flag.String("state", "/var/lib/webd", "directory for notes.txt")
	accessLog := flag.String("log", "/var/log/webd/access.log", "access log")
	pidfile := flag.String("pidfile", "", "write the pid here once listening")
	flag.Parse()

	lf, err := os.OpenFile(*accessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open access log: %w", err)
	}
	defer lf.Close()
	h := newHandler(*root, filepath.Join(*state, "notes.txt"), log.New(lf, "", log.LstdFlags))

	ln, err := net.Listen("tcp4", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
			return fmt.Errorf("pidfile: %w", err)
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newHandler serves root's files, the API (notes appended to notes) and the
// debug hole, logging each request to logger.
func newHandler(root, notes string, logger *log.Logger) http.Handler {
	s := &server{notes: notes, log: logger}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(root)))
	mux.HandleFunc("/api/hello", s.hello)
	mux.HandleFunc("/api/notes", s.addNote)
	mux.HandleFunc("/debug/read", s.debugRead)
	return s.logged(mux)
}

type server struct {
	mu    sync.Mutex
	notes string
	log   *log.Logger
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.log.Printf("%s %s %s %d", r.RemoteAddr, r.Method, r.URL.RequestURI(), sw.code)
	})
}

func (s *server) hello(w http.ResponseWriter, r *http.Request) {
	host, _ := os.Hostname()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"hello": "world", "host": host})
}

func (s *server) addNote(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a note", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.notes, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err == nil {
		_, err = fmt.Fprintf(f, "%s\n", body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "noted")
}

// debugRead is the hole: it reads any file the process can open.
func (s *server) debugRead(w http.ResponseWriter, r *http.Request) {
	data, err := os.ReadFile(r.URL.Query().Get("path"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(data)
}
