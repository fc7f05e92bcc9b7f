package control

import (
	"embed"
	"net/http"
	"path"
)

// pageFiles is the operator console: one page, its style and its script, with no external
// resource (the show network has no internet, and a console must not depend on one).
//
//go:embed page/index.html page/console.css page/console.js
var pageFiles embed.FS

// pageCSP allows the page only its own files and its own WebSocket, and no framing (a console
// button inside another site's frame could be clicked by a trick).
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var pageTypes = map[string]string{
	"index.html":  "text/html; charset=utf-8",
	"console.css": "text/css; charset=utf-8",
	"console.js":  "text/javascript; charset=utf-8",
}

// servePage serves GET / (the console) and its two files; anything else is 404.
func servePage(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	if r.URL.Path == "/" {
		name = "index.html"
	}
	ct, ok := pageTypes[name]
	if !ok || (r.URL.Path != "/" && r.URL.Path != "/"+name) {
		http.NotFound(w, r)
		return
	}
	b, err := pageFiles.ReadFile("page/" + name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.Write(b)
}
