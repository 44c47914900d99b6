package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "www")
	require.NoError(t, os.Mkdir(root, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "index.html"), []byte("<h1>aa-flow demo</h1>"), 0o644))
	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("s3cret"), 0o600))
	notes := filepath.Join(dir, "notes.txt")
	var access bytes.Buffer
	srv := httptest.NewServer(newHandler(root, notes, log.New(&access, "", 0)))
	defer srv.Close()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/", http.StatusOK, "aa-flow demo"},
		{"/api/hello", http.StatusOK, `"hello":"world"`},
		{"/api/notes", http.StatusMethodNotAllowed, "POST a note"},
		{"/debug/read?path=" + secret, http.StatusOK, "s3cret"},
		{"/debug/read?path=" + filepath.Join(dir, "missing"), http.StatusInternalServerError, "no such file"},
		{"/nope.html", http.StatusNotFound, "not found"},
	}
	for _, tt := range tests {
		code, body := get(tt.path)
		assert.Equal(t, tt.code, code, tt.path)
		assert.Contains(t, body, tt.body, tt.path)
	}

	for _, note := range []string{"first", "second"} {
		resp, err := http.Post(srv.URL+"/api/notes", "text/plain", strings.NewReader(note))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	got, err := os.ReadFile(notes)
	require.NoError(t, err)
	assert.Equal(t, "first\nsecond\n", string(got))
	assert.Contains(t, access.String(), "GET /api/hello 200")
	assert.Contains(t, access.String(), "POST /api/notes 200")
}
